"""Active learning: the next round drawn where the machine is least sure, or most varied, seeded."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import FIXTURES

from flows.coding.active import farthest, pick, uncertainty
from flows.coding.codebook import load_codebook
from flows.coding.machine import code_corpus
from flows.coding.rounds import sample
from flows.coding.sheets import read_sheet
from flows.coding.store import CodingError
from flows.embed.models import FakeEmbedder

TINY = FIXTURES / "codebooks" / "tiny.yaml"


def test_uncertainty_peaks_at_the_threshold_and_takes_the_least_certain_code():
    u = uncertainty({"a": np.array([0.5, 0.0, 0.9]), "b": np.array([0.0, 0.2, 1.0])}, {"a": 0.5, "b": 0.2})
    assert u.tolist() == pytest.approx([1.0, 1.0, 0.2])


def test_farthest_point_spreads_out_and_is_seeded():
    vectors = np.array([[1, 0], [0.99, 0.14], [0, 1], [-1, 0]], dtype=float)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    first = farthest(vectors, 3, np.random.default_rng(0))
    assert first == farthest(vectors, 3, np.random.default_rng(0)) and len(set(first)) == 3
    assert not {0, 1} <= set(first)  # two near-copies are not both taken while others are far


def test_uncertain_draws_from_the_least_sure_posts():
    rng = np.random.default_rng(3)
    vectors = rng.normal(size=(40, 8))
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    unsure = np.linspace(0, 1, 40)
    chosen = pick("uncertain", 5, 7, vectors, unsure)
    assert len(chosen) == 5 and min(chosen) >= 40 - 15  # from the 3 x 5 least certain
    assert chosen == pick("uncertain", 5, 7, vectors, unsure)


@pytest.fixture
def coded(con, ingest_files):
    ingest_files(FIXTURES / "ingest" / "cross" / "page.jsonl", FIXTURES / "ingest" / "twarc2" / "html_entities.jsonl")
    codebook = load_codebook(TINY)
    code_corpus(con, codebook, embedder=FakeEmbedder())
    return con, codebook


def test_sample_uncertain_and_diverse_write_seeded_sheets(coded, tmp_path):
    con, codebook = coded
    eligible = con.execute("SELECT count(*) FROM posts WHERE kind <> 'repost'").fetchall()[0][0]
    for strategy in ("uncertain", "diverse"):
        one = sample(con, codebook, 2, tmp_path / f"{strategy}1.csv", seed=4, strategy=strategy)
        two = sample(con, codebook, 2, tmp_path / f"{strategy}2.csv", seed=4, strategy=strategy)
        assert one["round_id"] == two["round_id"] and one["posts"] == min(2, eligible)
        assert read_sheet(tmp_path / f"{strategy}1.csv") == read_sheet(tmp_path / f"{strategy}2.csv")
    strata = con.execute("SELECT DISTINCT strata FROM coding_rounds ORDER BY 1").fetchall()
    assert strata == [("strategy=diverse",), ("strategy=uncertain",)]


def test_active_strategies_need_machine_coding_first(con, ingest_files, tmp_path):
    ingest_files(FIXTURES / "ingest" / "cross" / "page.jsonl")
    with pytest.raises(CodingError, match="run `ethnoflow code --codebook tiny` first"):
        sample(con, load_codebook(TINY), 1, tmp_path / "s.csv", strategy="uncertain")
    with pytest.raises(CodingError, match="unknown strategy"):
        sample(con, load_codebook(TINY), 1, tmp_path / "s.csv", strategy="clever")
