"""The Prefect flows: each stage is a task (or, where batches can go to Dask, a subflow)
over the plain stage function in `flows.run.stages`, and `pipeline` runs them in order.

    ethnoflow run            # one run of the pipeline on ./study.yaml
    ethnoflow serve --cron "0 3 * * *"   # the same, as a scheduled Prefect deployment

A run holds the study's write lock from start to end and is recorded in the `runs` table
with its stages' counts, the study hash, codebook hashes, source hashes, package versions
and code version.
"""

from __future__ import annotations

import time
import uuid
from pathlib import Path

from prefect import flow, task
from prefect.cache_policies import NO_CACHE
from prefect.runtime import flow_run
from prefect.utilities.annotations import unmapped

from flows.embed.distributed import encode_on_worker
from flows.run import stages
from flows.run.records import finish_run, start_run
from flows.store.db import connect
from flows.store.lock import study_lock
from flows.study.model import Study, load_study

# I/O that can fail transiently (files still being copied into the inbox, a busy disk)
# is retried with back-off; model stages fail the same way twice, so they are not.
IO_RETRIES = {"retries": 2, "retry_delay_seconds": [2, 10]}


@task(name="encode-chunk", cache_policy=NO_CACHE)
def encode_chunk(embedder, texts: list[str]):
    return encode_on_worker(embedder, texts)


def _task_map(embedder, chunks: list[list[str]]):
    """Map encode-chunk over the current flow's task runner (Dask when configured)."""
    futures = encode_chunk.map(unmapped(embedder), chunks)
    return [f.result() for f in futures]


def _encode_map(study: Study):
    return _task_map if study.executor.kind == "dask" else None


@task(name="ingest", cache_policy=NO_CACHE, **IO_RETRIES)
def ingest_task(study: Study) -> dict:
    return stages.ingest_stage(study)


@flow(name="embed")
def embed_flow(study: Study) -> dict:
    return stages.embed_stage(study, encode_map=_encode_map(study))


@task(name="topics", cache_policy=NO_CACHE)
def topics_task(study: Study) -> dict:
    return stages.topics_stage(study)


@flow(name="code")
def code_flow(study: Study) -> dict:
    return stages.code_stage(study, encode_map=_encode_map(study))


@task(name="network", cache_policy=NO_CACHE)
def network_task(study: Study) -> dict:
    return stages.network_stage(study)


@task(name="report", cache_policy=NO_CACHE, **IO_RETRIES)
def report_task(study: Study) -> dict:
    return stages.report_stage(study)


@task(name="export", cache_policy=NO_CACHE, **IO_RETRIES)
def export_task(study: Study) -> dict:
    return stages.export_stage(study)


def _with_runner(subflow, study: Study):
    """A subflow whose tasks run on the study's Dask cluster when it has one."""
    if study.executor.kind != "dask":
        return subflow
    from prefect_dask import DaskTaskRunner

    runner = DaskTaskRunner(address=study.executor.address) if study.executor.address else DaskTaskRunner(
        cluster_kwargs={"n_workers": study.executor.workers, "threads_per_worker": 1, "processes": True})
    return subflow.with_options(task_runner=runner)


def stage_steps(study: Study) -> list[tuple[str, object]]:
    """The stages in order, as Prefect tasks and subflows."""
    return [("ingest", ingest_task), ("embed", _with_runner(embed_flow, study)), ("topics", topics_task),
            ("code", _with_runner(code_flow, study)), ("network", network_task), ("report", report_task),
            ("export", export_task)]


@flow(name="ethnoflow-pipeline", log_prints=True)
def pipeline(study_path: str = "study.yaml", wait: float = 0.0) -> dict:
    """Run every stage of a study in order; only new or changed work is done."""
    study = load_study(study_path)
    run_id = str(flow_run.get_id() or uuid.uuid4())
    db = study.path(study.database)
    with study_lock(db, wait=wait):
        return _run_stages(study, run_id, db)


def _run_stages(study: Study, run_id: str, db: Path) -> dict:
    with connect(db, wait=stages.READER_WAIT) as con:
        start_run(con, run_id, "ethnoflow-pipeline", study.sha256)
    done: list[dict] = []
    for name, step in stage_steps(study):
        began = time.perf_counter()
        try:
            counts = step(study)
        except Exception as exc:
            with connect(db, wait=stages.READER_WAIT) as con:
                finish_run(con, run_id, done, error=f"stage {name} failed: {type(exc).__name__}: {exc}")
            raise
        done.append({"stage": name, "counts": counts, "seconds": round(time.perf_counter() - began, 3)})
    with connect(db, wait=stages.READER_WAIT) as con:
        finish_run(con, run_id, done)
    return {"run_id": run_id, "stages": done}
