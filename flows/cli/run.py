"""Study commands: init a study, run its pipeline (once or on a schedule), list its runs."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Annotated, Optional

import typer

from flows.cli.app import app, current_study, fail
from flows.cli.options import JsonOption

StudyOption = Annotated[Optional[Path], typer.Option("--study", help="The study file (default: ./study.yaml, "
                                                     "or $ETHNOFLOW_STUDY).", show_default=False)]
WaitOption = Annotated[float, typer.Option("--wait", help="Seconds to wait for another run of this study to finish.")]


def _study(path: Optional[Path]):
    return current_study(path, required=True)


@app.command()
def init(
    folder: Annotated[Path, typer.Argument(help="The new study's folder.", show_default=False)],
    title: Annotated[Optional[str], typer.Option(help="The study's title (default: the folder name).")] = None,
    sample: Annotated[bool, typer.Option("--sample", help="Put the fictional sample corpus in the inbox.")] = False,
) -> None:
    """Create a study folder: study.yaml (every key explained), coding_schemes/, data/inbox/, reports/.

    A new study runs the whole pipeline as it is: drop corpus files into data/inbox/ and
    run `ethnoflow run` inside the folder. With --sample the inbox holds the fictional
    #MedTwitter superuser corpus (invented people only).

    Example:
        ethnoflow init my-study --title "Residents on #MedTwitter"
    """
    from flows.study.scaffold import create_study

    try:
        created = create_study(folder, title=title, sample=sample)
    except FileExistsError as exc:
        fail(str(exc))
    typer.echo(f"created {created}; next: cd {folder} && ethnoflow run")


@app.command()
def run(
    study: StudyOption = None,
    wait: WaitOption = 0.0,
    no_prefect: Annotated[bool, typer.Option(
        "--no-prefect", help="Run the same stages without Prefect (no temporary API server); the run is "
                             "recorded the same way.")] = False,
    json_: JsonOption = False,
) -> None:
    """Run the study's pipeline once: collect → ingest → embed → topics → code → people → report → export.

    Only new work is done: new inbox files, uncached texts, posts not yet coded or assigned
    to topics. The run and what produced it are recorded (see `ethnoflow runs`). Each run is
    a Prefect flow whose stages are tasks; --no-prefect runs the same stages directly. When
    nothing is new since the last run (no new inbox file, the same study.yaml, codebooks and
    code) and no Prefect server is configured (PREFECT_API_URL), the stages run directly too,
    in seconds rather than the temporary server's start-up, and are recorded the same way.

    Example:
        ethnoflow run --study my-study/study.yaml
    """
    from flows.store.lock import LockedError

    loaded = _study(study)
    try:
        if no_prefect:
            from flows.run.runner import run_study

            result = run_study(loaded, wait=wait)
        elif not os.environ.get("PREFECT_API_URL") and _unchanged(loaded):
            from flows.run.runner import run_study

            result = run_study(loaded, wait=wait, flow_name="ethnoflow-pipeline")
        else:
            if not os.environ.get("PREFECT_API_URL") and not os.environ.get("PREFECT_HOME"):
                # the temporary server's database under the study, beside serve's: the study's records
                # stay with the study (and a withdrawal or leak check knows where they are)
                os.environ["PREFECT_HOME"] = str(loaded.path("data/prefect"))
            from flows.run.serve import prefect_server

            # A temporary server of our own (not Prefect's), so that it dies with this process
            # however it ends: a `kill -9` of the run leaves no server behind.
            with prefect_server(Path(os.environ.get("PREFECT_HOME") or loaded.path("data/prefect")), services=False):
                from flows.run.flow import pipeline  # imported once the API is set

                result = pipeline(study_path=str(loaded.file), wait=wait)
    except LockedError as exc:
        fail(str(exc))
    if json_:
        typer.echo(json.dumps(result, indent=2, default=str))
    else:
        for step in result["stages"]:
            typer.echo(f"{step['stage']:>8}: {json.dumps(step['counts'], default=str)} ({step['seconds']:.1f} s)")
    for warning in _warnings(result):
        typer.echo(f"warning: {warning}", err=True)
    if result.get("problems"):
        fail("the run completed every stage it could; " + "; ".join(result["problems"]))


def _warnings(result: dict) -> list[str]:
    """What the ingest stage left for later or skipped (files still being written, not corpora)."""
    ingest = next((s["counts"] for s in result["stages"] if s["stage"] == "ingest"), {})
    return list(ingest.get("warnings", [])) if isinstance(ingest, dict) else []


def _unchanged(loaded) -> bool:
    """Nothing new since the last run (said on stderr, so --json output stays clean)."""
    from flows.run.runner import nothing_new

    if nothing_new(loaded) is not None:
        return False
    typer.echo("nothing new since the last run: the stages run without Prefect's temporary server", err=True)
    return True


@app.command()
def runs(study: StudyOption = None, json_: JsonOption = False) -> None:
    """List the study's pipeline runs, newest first, with what produced each.

    Example:
        ethnoflow runs --json
    """
    from flows.cli.app import store
    from flows.run.records import list_runs
    from flows.store.lock import held

    loaded = _study(study)
    database = loaded.path(loaded.database)
    with store(database, read_only=True) as con:
        rows = list_runs(con, live=held(database))
    if json_:
        typer.echo(json.dumps(rows, indent=2))
        return
    for r in rows:
        stages = ", ".join(s["stage"] for s in r["stages"] or [])
        error = f"  {r['error']}" if r["error"] else ""
        typer.echo(f"{r['started_at']}  {r['status']:<9} {r['run_id']}  {stages}{error}")


@app.command()
def serve(
    study: StudyOption = None,
    cron: Annotated[str, typer.Option(help="When to run (cron syntax, UTC).")] = "0 3 * * *",
    every: Annotated[Optional[int], typer.Option(
        "--every", help="Run every this many seconds instead of on --cron.", show_default=False)] = None,
    name: Annotated[Optional[str], typer.Option(help="Deployment name (default: the study folder's name).")] = None,
) -> None:
    """Serve the pipeline as a scheduled Prefect deployment (each run collects, then reads the inbox).

    With no Prefect server configured, a local one starts for as long as this serves (its
    database in the study's data/prefect/); with your own (`prefect server start`), set
    PREFECT_API_URL and it is used. Stop it with Ctrl-C.

    Example:
        ethnoflow serve --cron "0 3 * * *"
    """
    from flows.run.serve import local_server, prefect_server, serve_command, supervise

    loaded = _study(study)
    schedule = {"interval": every} if every else {"cron": cron}
    home = loaded.path("data/prefect")
    with prefect_server(home) as api:
        when = f"every {every} s" if every else f"at '{cron}' (UTC)"
        typer.echo(f"serving on the Prefect API at {api}; runs {when}; log in {home / 'serve.log'}", err=True)
        code = supervise(serve_command(loaded.file, name or loaded.folder.name, schedule), home / "serve.log",
                         server=local_server(api), echo=lambda line: typer.echo(line, err=True))
    if code:
        raise typer.Exit(code)
