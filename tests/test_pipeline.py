"""The study file, the stages, incremental refreshes, failures, locks, the Prefect flow and Dask.

Most tests run every stage through the plain runner (`run_study`) with the fake embedder and
the k-means topic stand-in passed in. The real Prefect flow's tests are in
tests/test_pipeline_prefect.py.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest
from conftest import FIXTURES, settled_copy
from pipelines import counts_of, list_runs, results, run

from flows.run.stages import Context
from flows.store.db import connect
from flows.store.lock import LockedError
from flows.study.model import StudyError, load_study
from flows.study.scaffold import create_study


def test_init_writes_a_commented_study_that_validates(tmp_path):
    path = create_study(tmp_path / "s", title="Residents")
    text = path.read_text()
    assert "# " in text and "inbox: data/inbox" in text
    study = load_study(path)
    assert study.title == "Residents" and study.coding.codebooks == ["chretien2015"]
    for sub in ("coding_schemes", "data/inbox", "reports"):
        assert (tmp_path / "s" / sub).is_dir()
    with pytest.raises(FileExistsError):
        create_study(tmp_path / "s")


def test_a_typo_in_the_study_names_file_key_and_fix(tmp_path):
    path = create_study(tmp_path / "s")
    path.write_text(path.read_text().replace("min_topic_size: null", "min_topic_sise: null"))
    with pytest.raises(StudyError) as err:
        load_study(path)
    assert "study.yaml: [topics -> min_topic_sise] unknown key 'min_topic_sise'; did you mean 'min_topic_size'?" \
        in str(err.value)


def test_whole_pipeline_then_a_refresh_processes_only_the_new_posts(fast_models, study):
    first = counts_of(run(study))
    assert first["ingest"]["ingested"] == 600 and first["topics"]["action"] == "fit"
    assert first["code"]["chretien2015"]["coded"] > 0
    assert (study.parent / "reports" / "study" / "report.html").exists()
    before = results(study)

    settled_copy(FIXTURES / "ingest" / "cross" / "page.jsonl", study.parent / "data" / "inbox" / "new.jsonl")
    fast_models.encoded = []
    second = counts_of(run(study))
    assert second["ingest"] == {"files": 2, "new_files": 1, "ingested": 3, "duplicates": 0, "rejected": 0,
                                "superseded": 0, "not_corpus": 0, "settling": 0}
    assert second["topics"] == {"run": first["topics"]["run"], "action": "refresh", "assigned": 2}
    assert second["code"]["chretien2015"]["coded"] == 2  # the original and the reply; reposts are not coded
    assert sum(fast_models.encoded) == second["embed"]["embedded"] == 2

    after = results(study)
    for name in ("codes", "topics", "embeddings"):
        assert set(before[name]) <= set(after[name]), f"an earlier {name} row changed"
    runs = list_runs(study)
    assert [r["status"] for r in runs] == ["completed", "completed"]
    assert all(r["study_sha256"] == load_study(study).sha256 and r["versions"]["duckdb"] for r in runs)
    assert len(runs[0]["sources"]) == 2 and runs[0]["codebooks"]["chretien2015"]


def test_an_unchanged_rerun_does_no_model_work(fast_models, study):
    run(study)
    before = results(study)
    fast_models.encoded = []
    again = counts_of(run(study))
    assert fast_models.encoded == [] and again["topics"]["action"] == "refresh"
    assert again["topics"]["assigned"] == 0 and again["code"]["chretien2015"]["coded"] == 0
    assert results(study) == before


def test_a_failed_stage_changes_nothing_and_the_next_run_completes_it(fast_models, study,
                                                                      monkeypatch):
    from flows.coding import machine

    def crash(*args, **kwargs):
        raise RuntimeError("injected failure while writing codes")

    real = machine.replace_assignments
    monkeypatch.setattr(machine, "replace_assignments", crash)
    with pytest.raises(RuntimeError, match="injected failure"):
        run(study)
    assert results(study)["codes"] == []
    failed = list_runs(study)[0]
    assert failed["status"] == "failed" and failed["error"].startswith("stage code failed: RuntimeError")
    assert [s["stage"] for s in failed["stages"]] == ["collect", "ingest", "embed", "topics"]

    monkeypatch.setattr(machine, "replace_assignments", real)
    resumed = counts_of(run(study))
    assert resumed["ingest"]["new_files"] == 0 and resumed["code"]["chretien2015"]["coded"] > 0


def test_a_stage_with_a_researchers_problem_is_skipped_and_the_others_run(fast_models, study):
    study.write_text(study.read_text().replace("codebooks: [chretien2015]", "codebooks: [no_such_codebook]"))
    result = run(study)
    assert [s["stage"] for s in result["stages"]] == ["collect", "ingest", "embed", "topics", "code", "people",
                                                       "report", "export"]
    [problem] = result["problems"]
    assert problem.startswith("stage code skipped: ") and "no_such_codebook" in problem
    assert (study.parent / "reports" / "study" / "report.html").exists()
    recorded = list_runs(study)[0]
    assert recorded["status"] == "failed" and recorded["error"] == problem


def test_a_killed_run_is_marked_interrupted_by_the_next_one(fast_models, study):
    from flows.run.records import INTERRUPTED, start_run

    db = load_study(study).path("data/ethnoflow.duckdb")
    with connect(db) as con:  # a run whose process was killed: started, never finished
        start_run(con, "killed-run", "ethnoflow-pipeline", None)
    run(study)
    runs = {r["run_id"]: r for r in list_runs(study)}
    assert runs["killed-run"]["status"] == "failed" and runs["killed-run"]["error"] == INTERRUPTED
    assert runs["killed-run"]["ended_at"] is None
    assert [r["status"] for r in runs.values() if r["run_id"] != "killed-run"] == ["completed"]


def test_a_reader_holding_the_store_delays_a_stage_instead_of_failing_it(fast_models, study):
    run(study)
    db = load_study(study).path("data/ethnoflow.duckdb")
    reader = subprocess.Popen([sys.executable, "-c", textwrap.dedent(f"""
        import time
        from flows.store.db import connect
        con = connect({str(db)!r}, read_only=True)
        print("reading", flush=True)
        time.sleep(3)
        con.close()
    """)], stdout=subprocess.PIPE, text=True)
    try:
        assert reader.stdout.readline().strip() == "reading"
        with Context(load_study(study)).store() as con:  # without a wait: StoreError at once
            assert con.execute("SELECT count(*) FROM posts").fetchone() == (600,)
    finally:
        reader.kill()


def test_a_second_run_of_the_same_study_is_refused_clearly(fast_models, study):
    db = load_study(study).path("data/ethnoflow.duckdb")
    holder = subprocess.Popen([sys.executable, "-c", textwrap.dedent(f"""
        import sys, time
        from flows.store.lock import study_lock
        with study_lock({str(db)!r}):
            print("locked", flush=True)
            time.sleep(30)
    """)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        with pytest.raises(LockedError, match="this study is being written by ethnoflow pid"):
            run(study)
    finally:
        holder.kill()
        holder.wait()
    assert counts_of(run(study, wait=5))["ingest"]["ingested"] == 600


def test_commands_inside_a_study_folder_use_its_database(fast_models, study, cli, monkeypatch):
    run(study)
    monkeypatch.delenv("ETHNOFLOW_DB")
    monkeypatch.chdir(study.parent)
    status = json.loads(cli("status", "--json").output)
    assert status["posts"] == 600
    listed = json.loads(cli("runs", "--json").output)
    assert len(listed) == 1 and listed[0]["status"] == "completed"


def test_standing_exports_are_written_on_every_run(fast_models, study):
    study.write_text(study.read_text().replace("  formats: []", "  formats: [csv, ids]"))
    exported = counts_of(run(study))["export"]
    assert exported["formats"] == ["csv", "ids"]
    folder = study.parent / "exports"
    assert (folder / "study.csv").exists() and (folder / "study.dictionary.json").exists()
    rows = (folder / "study.csv").read_text().splitlines()
    assert len(rows) == 601 and "chretien2015.information" in rows[0]
    assert counts_of(run(study))["export"]["formats"] == ["csv", "ids"]  # replaced, not refused


def test_edited_topic_settings_keep_the_run_until_an_explicit_refit(fast_models, study):
    first = counts_of(run(study))["topics"]
    study.write_text(study.read_text().replace("min_topic_size: null", "min_topic_size: 12"))
    again = counts_of(run(study))["topics"]
    assert again["run"] == first["run"] and again["action"] == "refresh"
    assert "ethnoflow topics --refit" in again["note"]
