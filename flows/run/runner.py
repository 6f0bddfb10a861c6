"""Running a study: every stage of `STAGES` in order, under the study's write lock, recorded in `runs`.

`run_study` is the plain runner (no Prefect): what tests, notebooks and `ethnoflow run
--no-prefect` call. The Prefect flow (`flows.run.flow`) runs the same stages through the same
`run_stages`, each stage a task, so both record a run the same way: its id, times, status,
each stage's counts and seconds, the study hash, codebook and source hashes, package versions
and the code version.

An unchanged study (`nothing_new`: no new inbox file, the same study.yaml, codebooks, code and
packages as its last run, which completed) is run by `ethnoflow run` through this plain runner
instead of Prefect's temporary API server, whose start-up (12-25 s) is most of such a run.
The stages and the record are the same ones: each stage still looks for new work (a human
coder's import, a withdrawal) and does it.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable

import duckdb

from flows.errors import is_user_error
from flows.provenance import PACKAGES, code_version, package_versions
from flows.run.records import finish_run, last_run, start_run
from flows.run.stages import READER_WAIT, STAGES, Context, Models, Stage, source_files
from flows.store.db import StoreError, connect
from flows.store.lock import study_lock
from flows.study.model import Study

StageCall = Callable[[Stage, Context], dict]  # runs one stage: directly, or as a Prefect task


def _direct(stage: Stage, ctx: Context) -> dict:
    return stage.run(ctx)


def run_stages(ctx: Context, run_id: str, flow_name: str, call: StageCall = _direct) -> dict:
    """Run every stage in order and record the run; the caller holds the study lock.

    A stage that fails on a researcher's problem (a `UserError`: bad input or configuration) is
    skipped with its one-line reason and the next stages still run; the run is recorded as failed,
    naming what it skipped, and the result's ``problems`` list them. Any other exception (a bug)
    ends the run: it is recorded as failed with the stages done so far (the failed stage's own
    writes were rolled back), and the exception propagates.
    """
    db = ctx.study.path(ctx.study.database)
    with connect(db, wait=READER_WAIT) as con:
        start_run(con, run_id, flow_name, ctx.study.sha256)
    done: list[dict] = []
    problems: list[str] = []
    for stage in STAGES:
        began = time.perf_counter()
        try:
            counts = call(stage, ctx)
        except Exception as exc:
            if not is_user_error(exc):
                with connect(db, wait=READER_WAIT) as con:
                    finish_run(con, run_id, done, error=f"stage {stage.name} failed: {type(exc).__name__}: {exc}")
                raise
            problems.append(f"stage {stage.name} skipped: {_one_line(exc)}")
            done.append({"stage": stage.name, "counts": {"skipped": _one_line(exc)},
                         "seconds": round(time.perf_counter() - began, 3)})
            continue
        done.append({"stage": stage.name, "counts": counts, "seconds": round(time.perf_counter() - began, 3)})
    with connect(db, wait=READER_WAIT) as con:
        finish_run(con, run_id, done, error="; ".join(problems) or None)
    return {"run_id": run_id, "stages": done, "problems": problems}


def _one_line(exc: BaseException) -> str:
    return " / ".join(line.strip() for line in str(exc).splitlines() if line.strip()) or type(exc).__name__


def run_study(study: Study, *, embedder=None, topic_backend=None, wait: float = 0.0,
              run_id: str | None = None, flow_name: str = "ethnoflow-run") -> dict:
    """Run every stage of the study in order, without Prefect; only new work is done.

    Args:
        study: the loaded study (`flows.study.model.load_study`).
        embedder: one embedder for every stage (None: the models the study names).
        topic_backend: "bertopic" (default), "kmeans" or a backend object.
        wait: seconds to wait for another run of this study to finish.
        run_id: the run's id in `runs` (default: a new UUID).
        flow_name: what `runs` says ran it (`ethnoflow run` gives an unchanged study the
            pipeline flow's name: the same stages, recorded the same way).

    Returns:
        ``{"run_id", "stages": [{"stage", "counts", "seconds"}], "problems": [one line per stage skipped]}``.

    Raises:
        flows.store.lock.LockedError: another run holds the study after ``wait`` seconds.
    """
    ctx = Context(study, Models(embedder=embedder, topic_backend=topic_backend))
    with study_lock(study.path(study.database), wait=wait):
        return run_stages(ctx, run_id or str(uuid.uuid4()), flow_name)


def _codebook_hashes(study: Study) -> dict[str, str]:
    from flows.coding.codebook import resolve_codebook

    books = (resolve_codebook(ref, schemes=study.path("coding_schemes")) for ref in study.coding.codebooks)
    return {book.id: book.content_hash for book in books}


def nothing_new(study: Study) -> str | None:
    """Why the study may have new work since its last run, or None when nothing is new.

    Nothing is new when the last run completed with this study.yaml (its hash), these codebooks
    (their content hashes), this code and these packages, and every inbox or source file is one
    it had already stored (by sha256). Cheap: it hashes the files and reads `runs`, nothing more.
    """
    from flows.ingest.readers import file_sha256

    db = study.path(study.database)
    if not db.is_file():
        return "no store yet"
    if study.collect is not None and (study.collect.bluesky or study.collect.x):
        return "the study collects from the platforms"
    try:
        with connect(db, read_only=True) as con:
            last = last_run(con)
    except (StoreError, duckdb.Error) as exc:
        return f"the store cannot be read now ({type(exc).__name__})"
    if last is None or last["status"] != "completed":
        return "the last run did not complete" if last else "no run yet"
    if last["study_sha256"] != study.sha256:
        return "study.yaml changed"
    if last["code_version"] != code_version() or last["versions"] != package_versions(*PACKAGES):
        return "ethnoflow or its packages changed"
    if not {file_sha256(f) for f in source_files(study)} <= set(last["sources"] or []):
        return "new or changed source files"
    try:
        books = _codebook_hashes(study)
    except Exception:  # the full run reports a broken codebook properly
        return "a codebook cannot be read"
    if any((last["codebooks"] or {}).get(cid) != sha for cid, sha in books.items()):
        return "a codebook changed"
    return None
