"""An unchanged study: `ethnoflow run` finds nothing new, runs the stages without Prefect's
temporary server, and records the run as a full run records itself."""

from __future__ import annotations

import json
import re
import shutil
import sys

import pytest
from conftest import FIXTURES, settled_copy

from flows.run.records import list_runs
from flows.run.runner import nothing_new, run_study
from flows.run.stages import STAGES
from flows.store.db import connect
from flows.study.model import load_study

FAKES = {"model: minilm ": "model: fake ", "embedder: minilm ": "embedder: fake ",
         "guidance: none ": "guidance: none\n  backend: kmeans "}


@pytest.fixture(scope="module")
def ran_once(tmp_path_factory, sample_corpus):
    """The 600-tweet sample study with the fake embedder and k-means named in study.yaml, run once."""
    from flows.study.scaffold import create_study

    study = create_study(tmp_path_factory.mktemp("unchanged") / "study", title="Unchanged")
    settled_copy(sample_corpus, study.parent / "data" / "inbox" / "sample.jsonl")
    text = study.read_text()
    for old, new in FAKES.items():
        assert old in text, old
        text = text.replace(old, new)
    study.write_text(text)
    run_study(load_study(study))
    return study


@pytest.fixture
def ran(ran_once, tmp_path):
    """A copy of the study run once, for one test to change."""
    shutil.copytree(ran_once.parent, tmp_path / "study")
    return tmp_path / "study" / "study.yaml"


def runs_of(study) -> list[dict]:
    loaded = load_study(study)
    with connect(loaded.path(loaded.database), read_only=True) as con:
        return list_runs(con)


def test_an_unchanged_run_records_itself_as_a_full_run_does_without_prefect(ran, cli, monkeypatch):
    assert nothing_new(load_study(ran)) is None
    monkeypatch.delenv("ETHNOFLOW_DB")
    monkeypatch.delenv("PREFECT_API_URL", raising=False)
    monkeypatch.setitem(sys.modules, "flows.run.flow", None)  # importing the Prefect flow now fails
    result = json.loads(cli("run", "--study", ran, "--json").stdout)
    newest, first = runs_of(ran)[:2]
    assert newest["run_id"] == result["run_id"] and newest["status"] == "completed"
    assert newest["flow_name"] == "ethnoflow-pipeline" and newest["ended_at"]
    assert [s["stage"] for s in newest["stages"]] == [stage.name for stage in STAGES]
    for key in ("study_sha256", "sources", "codebooks", "versions", "code_version"):
        assert newest[key] == first[key], key
    counts = {s["stage"]: s["counts"] for s in newest["stages"]}
    assert counts["ingest"]["new_files"] == 0 and counts["embed"]["embedded"] == 0
    assert counts["code"]["chretien2015"]["coded"] == 0 and counts["topics"]["action"] == "refresh"
    plain = {s["stage"]: s["counts"] for s in run_study(load_study(ran))["stages"]}
    assert plain == counts  # what the stages record is what a run of every stage records


def test_a_new_inbox_file_or_an_edited_study_is_new(ran):
    shutil.copy(FIXTURES / "ingest" / "cross" / "page.jsonl", ran.parent / "data" / "inbox" / "new.jsonl")
    assert nothing_new(load_study(ran)) == "new or changed source files"
    (ran.parent / "data" / "inbox" / "new.jsonl").unlink()
    ran.write_text(re.sub(r"min_topic_size: \S+", "min_topic_size: 12", ran.read_text(), count=1))
    assert nothing_new(load_study(ran)) == "study.yaml changed"


def test_an_edited_codebook_or_a_failed_run_is_new(ran):
    schemes = ran.parent / "coding_schemes"
    shipped = FIXTURES.parent.parent / "coding_schemes" / "chretien2015.yaml"
    schemes.mkdir(exist_ok=True)
    text = re.sub(r'(?m)^version: .*$', 'version: "99.0"', shipped.read_text())
    (schemes / "chretien2015.yaml").write_text(text)
    assert nothing_new(load_study(ran)) == "a codebook changed"
    (schemes / "chretien2015.yaml").unlink()
    loaded = load_study(ran)
    with connect(loaded.path(loaded.database)) as con:
        con.execute("UPDATE runs SET status = 'failed'")
    assert nothing_new(loaded) == "the last run did not complete"


def test_a_study_never_run_is_new(study):
    assert nothing_new(load_study(study)) == "no store yet"
