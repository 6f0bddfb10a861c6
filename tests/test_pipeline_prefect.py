"""The real Prefect flow: every stage as a task and the run recorded, on Dask, and (slow) with the
bundled model and BERTopic. Kept apart from tests/test_pipeline.py (the plain runner) so that the
two share the two test workers instead of queueing on one."""

from __future__ import annotations

import shutil

import pytest
from pipelines import CountingEmbedder, counts_of, list_runs, results, run, run_prefect, vectors

from flows.embed.models import FakeEmbedder
from flows.run.runner import run_study
from flows.run.stages import STAGES
from flows.study.model import load_study


def test_dask_executor_gives_the_same_results(prefect_harness, study, tmp_path, monkeypatch):
    # Dask workers are other processes: give them an embedder they can import.
    fakes = {"embedder": FakeEmbedder(), "topic_backend": "kmeans"}
    local = tmp_path / "local"  # the same study on the local executor, through the plain runner
    shutil.copytree(study.parent, local)
    run_study(load_study(local / "study.yaml"), **fakes)
    text = study.read_text().replace("kind: local", "kind: dask")
    study.write_text(text)
    assert load_study(study).executor.kind == "dask"
    from flows.run import flow as pipeline

    mapped = []
    real_map = pipeline._task_map

    def counting_map(embedder, chunks):
        mapped.append(len(chunks))
        return real_map(embedder, chunks)

    monkeypatch.setattr(pipeline, "_task_map", counting_map)
    run_prefect(study, **fakes)
    assert mapped and sum(mapped) >= 1  # the batches went through the Dask task runner
    assert load_study(study).executor.workers == 2  # a local cluster of two worker processes
    assert results(study) == results(local / "study.yaml")
    assert vectors(study) == vectors(local / "study.yaml")  # the vectors themselves, not only their keys


def test_the_prefect_flow_runs_every_stage_as_a_task_and_records_the_run(prefect_harness, fast_models, study):
    import uuid

    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId
    from prefect.client.schemas.sorting import TaskRunSort

    result = run_prefect(study, embedder=CountingEmbedder(), topic_backend="kmeans")
    assert [s["stage"] for s in result["stages"]] == [stage.name for stage in STAGES]
    recorded = list_runs(study)[0]
    assert recorded["run_id"] == result["run_id"] and recorded["flow_name"] == "ethnoflow-pipeline"
    this_run = FlowRunFilter(id=FlowRunFilterId(any_=[uuid.UUID(result["run_id"])]))
    with get_client(sync_client=True) as client:
        tasks = client.read_task_runs(flow_run_filter=this_run, sort=TaskRunSort.EXPECTED_START_TIME_ASC, limit=200)
    assert [r.name.rsplit("-", 1)[0] for r in tasks] == [stage.name for stage in STAGES]
    plain = counts_of(run(study))
    assert plain["ingest"]["new_files"] == 0 and plain["code"]["chretien2015"]["coded"] == 0


@pytest.mark.slow
def test_the_real_pipeline_with_the_bundled_model_and_bertopic(prefect_harness, study):
    from flows.run.flow import pipeline

    first = counts_of(pipeline(study_path=str(study)))
    assert first["embed"]["model"].startswith("all-MiniLM-L6-v2@53aa5117")
    assert first["topics"]["action"] == "fit" and first["code"]["chretien2015"]["coded"] > 0
    again = counts_of(run_study(load_study(study)))
    assert again["embed"]["embedded"] == 0 and again["code"]["chretien2015"]["coded"] == 0


