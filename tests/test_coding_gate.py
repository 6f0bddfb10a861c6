"""The validation gate: machine codes below the study's threshold are marked, in the coding
stage's output, the report (results table, whose-values table, methods paragraph) and exports."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from fixtures.report.study import add_human_codes

from flows.coding import gate
from flows.coding.codebook import resolve_codebook
from flows.coding.evaluate import Posts
from flows.coding.machine import code_corpus
from flows.store.db import connect


class Noisy:
    """A fake method: the true code with every ``flip``-th post flipped (author-blind)."""

    def __init__(self, flip: int) -> None:
        self.flip = flip

    def fit(self, train):
        pass

    def predict(self, posts):
        y = posts.labels["x"].copy()
        idx = np.array([int(t[1:]) for t in posts.texts])
        y[idx % self.flip == 0] ^= 1
        return {"x": (y, y.astype(float))}


def _posts(n=200, authors=20):
    y = (np.arange(n) % 3 == 0).astype(int)
    return Posts([f"t{i}" for i in range(n)], [""] * n, np.zeros((n, 1)),
                 np.array([f"a{i % authors}" for i in range(n)], dtype=object), {"x": y})


def test_a_code_passes_only_when_the_lower_bound_reaches_the_threshold():
    good = gate.validate(lambda: Noisy(50), _posts(), threshold=0.6)["x"]
    bad = gate.validate(lambda: Noisy(4), _posts(), threshold=0.6)["x"]
    assert good["validated"] and good["ci_low"] >= 0.6 and "lower bound >= 0.60" in good["reason"]
    assert not bad["validated"] and bad["ci_low"] < 0.6 and "lower bound < 0.60" in bad["reason"]
    strict = gate.validate(lambda: Noisy(50), _posts(), threshold=0.99)["x"]
    assert not strict["validated"] and strict["kappa"] == good["kappa"]


def test_one_author_cannot_be_held_out_so_nothing_is_validated():
    found = gate.validate(lambda: Noisy(50), _posts(authors=1))["x"]
    assert not found["validated"] and "fewer than two authors" in found["reason"]


@pytest.fixture(scope="module")
def gated(tmp_path_factory):
    """The sample corpus with people's codes, then rules-only coding trained on consensus: every code
    gated at an impossible threshold (nothing passes) and, in a copy, at one only the best pass."""
    from flows.coding.store import register_codebook
    from flows.ingest.files import ingest
    from flows.sample.generate import generate

    work = tmp_path_factory.mktemp("gate")
    manifest = generate(work / "sample", tweets=500)
    codebook = resolve_codebook("chretien2015")
    con = connect(work / "strict.duckdb")
    ingest(con, [manifest["corpus"]])
    register_codebook(con, codebook)
    add_human_codes(con, codebook, json.loads(Path(manifest["truth"]).read_text(encoding="utf-8")))
    con.close()
    shutil.copy(work / "strict.duckdb", work / "split.duckdb")
    summaries = {}
    for name, threshold in (("strict", 1.01), ("split", None)):
        if threshold is None:  # between the two best lower bounds: some codes pass, the rest do not
            lows = sorted({v["ci"][0] for v in summaries["strict"]["validation"].values() if v["ci"][0] is not None})
            threshold = (lows[-1] + lows[-2]) / 2
        con = connect(work / f"{name}.duckdb")
        summaries[name] = code_corpus(con, codebook, embedder=None, train_from=["consensus"],
                                      threshold=threshold)
        con.close()
    return work, summaries


def test_the_code_stage_stores_a_verdict_per_code(gated):
    work, summaries = gated
    assert {v["validated"] for v in summaries["strict"]["validation"].values()} == {False}
    split = summaries["split"]["validation"]
    assert 1 <= sum(v["validated"] for v in split.values()) < len(split)
    con = connect(work / "strict.duckdb", read_only=True)
    rows = con.execute("SELECT reference, folds, threshold FROM code_validation").fetchall()
    con.close()
    assert len(rows) == 7 and set(rows) == {("consensus", 5, 1.01)}


def _report(db, out):
    from flows.report.build import build_report
    from flows.report.settings import ReportSettings

    con = connect(db, read_only=True)
    try:
        build_report(con, out, ReportSettings(n_boot=20))
    finally:
        con.close()
    with open(out / "tables" / "codes_chretien2015_results.csv", encoding="utf-8", newline="") as handle:
        return {r["code"]: r for r in csv.DictReader(handle)}, (out / "report.md").read_text(encoding="utf-8")


def test_the_report_marks_codes_below_the_threshold_and_says_whose_values_count(gated, tmp_path, monkeypatch):
    monkeypatch.setenv("ETHNOFLOW_SECRET", "test-secret-for-gate")
    work, summaries = gated
    results, text = _report(work / "split.duckdb", tmp_path / "r")
    verdicts = summaries["split"]["validation"]
    assert {c: r["validation"] for c, r in results.items() if c in verdicts} == {
        c: "validated" if v["validated"] else "not validated" for c, v in verdicts.items()}
    assert results["access"]["validation"] == "not validated" or results["voice"]["validation"] == "not validated"
    assert "chretien2015: validated:" in text
    assert "NOT VALIDATED, so their machine values are not findings" in text
    counted = (tmp_path / "r" / "tables" / "codes_chretien2015_validation.csv").read_text(encoding="utf-8")
    assert "not a finding" in counted and "validated against consensus" in counted


def test_exports_mark_unvalidated_machine_codes(gated, tmp_path):
    from flows.coding.store import export_codes
    from flows.export.dataset import export_dataset
    from flows.export.selection import ExportOptions

    work, _ = gated
    con = connect(work / "strict.duckdb", read_only=True)
    try:
        export_codes(con, tmp_path / "codes.csv")
        export_dataset(con, tmp_path / "posts.csv", ExportOptions(fmt="csv"), secret=b"k" * 32)
    finally:
        con.close()
    with open(tmp_path / "codes.csv", encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert {r["validation"] for r in rows if r["coder"] == "auto"} == {"not validated"}
    assert {r["validation"] for r in rows if r["coder"] == "consensus"} == {"human"}
    dictionary = json.loads(next(tmp_path.glob("*.json")).read_text(encoding="utf-8"))
    assert all(c["validation"].startswith("NOT VALIDATED") for c in dictionary["codes"])


def test_a_qdpx_project_marks_unvalidated_machine_codings(gated, tmp_path):
    from flows.export.dataset import export_dataset
    from flows.export.refiqda.codebook_xml import parse_description
    from flows.export.refiqda.reader import read_qdpx
    from flows.export.selection import ExportOptions

    work, _ = gated
    con = connect(work / "strict.duckdb", read_only=True)
    try:
        export_dataset(con, tmp_path / "auto.qdpx", ExportOptions(fmt="qdpx", coders=("auto", "consensus")),
                       secret=b"k" * 32)
    finally:
        con.close()
    project = read_qdpx(tmp_path / "auto.qdpx")
    assert "Machine codings NOT VALIDATED" in project.description
    leaves = [c for c in _codes(project.codes) if not c.children]
    assert leaves and all("Validation of auto's codings: NOT VALIDATED" in c.description for c in leaves)
    assert all("consensus" not in c.description.split("(ethnoflow id:")[1] for c in leaves)
    # the verdict is not part of the codebook: a project read back gives the same definitions
    assert all("Validation" not in str(parse_description(c.description)) for c in leaves)


def _codes(codes):
    for code in codes:
        yield code
        yield from _codes(code.children)
