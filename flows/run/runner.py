"""Running a study: every stage of `STAGES` in order, under the study's write lock, recorded in `runs`.

`run_study` is the plain runner (no Prefect): what tests, notebooks and `ethnoflow run
--no-prefect` call. The Prefect flow (`flows.run.flow`) runs the same stages through the same
`run_stages`, each stage a task, so both record a run the same way: its id, times, status,
each stage's counts and seconds, the study hash, codebook and source hashes, package versions
and the code version.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable

from flows.run.records import finish_run, start_run
from flows.run.stages import READER_WAIT, STAGES, Context, Models, Stage
from flows.store.db import connect
from flows.store.lock import study_lock
from flows.study.model import Study

StageCall = Callable[[Stage, Context], dict]  # runs one stage: directly, or as a Prefect task


def _direct(stage: Stage, ctx: Context) -> dict:
    return stage.run(ctx)


def run_stages(ctx: Context, run_id: str, flow_name: str, call: StageCall = _direct) -> dict:
    """Run every stage in order and record the run; the caller holds the study lock.

    A stage that raises ends the run: the run is recorded as failed with the stages done so far
    (the failed stage's own writes were rolled back), and the exception propagates.
    """
    db = ctx.study.path(ctx.study.database)
    with connect(db, wait=READER_WAIT) as con:
        start_run(con, run_id, flow_name, ctx.study.sha256)
    done: list[dict] = []
    for stage in STAGES:
        began = time.perf_counter()
        try:
            counts = call(stage, ctx)
        except Exception as exc:
            with connect(db, wait=READER_WAIT) as con:
                finish_run(con, run_id, done, error=f"stage {stage.name} failed: {type(exc).__name__}: {exc}")
            raise
        done.append({"stage": stage.name, "counts": counts, "seconds": round(time.perf_counter() - began, 3)})
    with connect(db, wait=READER_WAIT) as con:
        finish_run(con, run_id, done)
    return {"run_id": run_id, "stages": done}


def run_study(study: Study, *, embedder=None, topic_backend=None, wait: float = 0.0,
              run_id: str | None = None) -> dict:
    """Run every stage of the study in order, without Prefect; only new work is done.

    Args:
        study: the loaded study (`flows.study.model.load_study`).
        embedder: one embedder for every stage (None: the models the study names).
        topic_backend: "bertopic" (default), "kmeans" or a backend object.
        wait: seconds to wait for another run of this study to finish.
        run_id: the run's id in `runs` (default: a new UUID).

    Returns:
        ``{"run_id", "stages": [{"stage", "counts", "seconds"}]}``.

    Raises:
        flows.store.lock.LockedError: another run holds the study after ``wait`` seconds.
    """
    ctx = Context(study, Models(embedder=embedder, topic_backend=topic_backend))
    with study_lock(study.path(study.database), wait=wait):
        return run_stages(ctx, run_id or str(uuid.uuid4()), "ethnoflow-run")
