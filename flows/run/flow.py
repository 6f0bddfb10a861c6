"""The Prefect flow: the stages of `STAGES`, each a task (or, where embedding batches can go to a
Dask cluster, a subflow), run in order by the same `run_stages` as the plain runner.

    ethnoflow run                          # one run of the pipeline on ./study.yaml
    ethnoflow serve --cron "0 3 * * *"     # the same, as a scheduled Prefect deployment

A run holds the study's write lock from start to end and is recorded in the `runs` table
(see `flows.run.runner`). Stages get the study and its models through a closure, so Prefect
never serialises a model as a parameter. A pseudonymising study's logs and failed states go
through its redaction layer (`flows.privacy.logs`) before Prefect records them.
"""

from __future__ import annotations

import uuid

from prefect import flow, task
from prefect.cache_policies import NO_CACHE
from prefect.runtime import flow_run
from prefect.utilities.annotations import unmapped

from flows.embed.distributed import encode_on_worker
from flows.errors import UserError, is_user_error
from flows.run.runner import run_stages
from flows.run.stages import Context, Models, Stage
from flows.store.lock import study_lock
from flows.study.model import Study, load_study

# I/O that can fail transiently (files still being copied into the inbox, a busy disk)
# is retried with back-off; model stages fail the same way twice, so they are not.
IO_RETRIES = {"retries": 2, "retry_delay_seconds": [2, 10]}
PROBLEM = "__ethnoflow_problem__"


@task(name="encode-chunk", cache_policy=NO_CACHE)
def encode_chunk(embedder, texts: list[str]):
    return encode_on_worker(embedder, texts)


def _task_map(embedder, chunks: list[list[str]]):
    """Map encode-chunk over the current flow's task runner (Dask when configured)."""
    futures = encode_chunk.map(unmapped(embedder), chunks)
    return [f.result() for f in futures]


def _dask_runner(study: Study):
    from prefect_dask import DaskTaskRunner

    if study.executor.address:
        return DaskTaskRunner(address=study.executor.address)
    return DaskTaskRunner(cluster_kwargs={"n_workers": study.executor.workers, "threads_per_worker": 1,
                                          "processes": True})


class StageProblem(UserError):
    """A stage's `UserError`, carried out of its Prefect task as a value (see `_redacted`)."""


def _redacted(stage: Stage, ctx: Context):
    """The stage's function, raising with its message redacted (what Prefect records as its state).

    A `UserError` (bad input or configuration) is returned as ``{PROBLEM: message}`` instead of
    raised: the task neither retries it (running again cannot help) nor logs a traceback for it,
    and `prefect_call` raises it again outside the task, for `run_stages` to record and go on.
    """
    from flows.privacy.logs import redacted_error

    def run(context: Context) -> dict:
        try:
            return stage.run(context)
        except Exception as exc:
            cleaned = redacted_error(exc, ctx.study)
            if is_user_error(cleaned):
                return {PROBLEM: str(cleaned)}
            if cleaned is exc:
                raise
            raise cleaned from None

    return run


def _unwrapped(counts: dict) -> dict:
    if isinstance(counts, dict) and PROBLEM in counts:
        raise StageProblem(counts[PROBLEM])
    return counts


def prefect_call(stage: Stage, ctx: Context) -> dict:
    """Run one stage as a Prefect task, or as a subflow on the study's Dask cluster."""
    run = _redacted(stage, ctx)
    if stage.batches and ctx.study.executor.kind == "dask":
        mapped = Context(ctx.study, Models(ctx.models.embedder, ctx.models.topic_backend, _task_map), ctx._loaded)
        subflow = flow(name=stage.name, task_runner=_dask_runner(ctx.study))(lambda: run(mapped))
        return _unwrapped(subflow())
    step = task(name=stage.name, cache_policy=NO_CACHE, **(IO_RETRIES if stage.io else {}))(lambda: run(ctx))
    return _unwrapped(step())


def run_flow(study_path: str, wait: float = 0.0, models: Models | None = None) -> dict:
    """The pipeline flow's body: load the study, hold its lock, run the stages as tasks."""
    from flows.privacy.logs import redacted_logs

    study = load_study(study_path)
    ctx = Context(study, models or Models())
    run_id = str(flow_run.get_id() or uuid.uuid4())
    with study_lock(study.path(study.database), wait=wait), redacted_logs(study):
        return run_stages(ctx, run_id, "ethnoflow-pipeline", call=prefect_call)


@flow(name="ethnoflow-pipeline", log_prints=True)
def pipeline(study_path: str = "study.yaml", wait: float = 0.0) -> dict:
    """Run every stage of a study in order; only new or changed work is done."""
    return run_flow(study_path, wait)


def run_with_prefect(study_path: str, *, embedder=None, topic_backend=None, wait: float = 0.0) -> dict:
    """The pipeline flow with models passed in (tests, scripts); `pipeline` uses the study's."""
    models = Models(embedder=embedder, topic_backend=topic_backend)
    return flow(name="ethnoflow-pipeline", log_prints=True)(lambda: run_flow(study_path, wait, models))()
