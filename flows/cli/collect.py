"""Collection: `ethnoflow collect` fetches the study's accounts and queries from Bluesky and X."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from flows.cli.app import app, fail, store
from flows.cli.options import JsonOption
from flows.cli.run import StudyOption, _study


@app.command()
def collect(
    study: StudyOption = None,
    full: Annotated[bool, typer.Option("--full", help="List every Bluesky account's whole repository now "
                                       "(deleted posts, posts the author feed skipped), whatever "
                                       "collect: bluesky: recheck_days says.")] = False,
    json_: JsonOption = False,
) -> None:
    """Fetch the study's accounts and queries (study.yaml `collect:`) from Bluesky and the X API.

    Only what is new since the last collection is fetched; an interrupted collection resumes
    where it stopped. Pages are kept as collected in data/collected/ and ingested into the
    store; every run's manifest (endpoints, parameters, pages, posts) is recorded and shown in
    the report. Secrets come from the environment variables study.yaml names, never stored.
    `ethnoflow run` collects first too.

    Example:
        BLUESKY_HANDLE=me.bsky.social BLUESKY_APP_PASSWORD=xxxx-xxxx-xxxx-xxxx ethnoflow collect
    """
    from rich.console import Console

    from flows.cli.progress import wait_progress
    from flows.collect.collect import collect_study
    from flows.collect.limits import Waiter

    loaded = _study(study)
    if loaded.collect is None:
        fail(f"{loaded.file}: no collect: section; add one (see the README's Bluesky quick start)")
    with store(loaded.path(loaded.database)) as con, wait_progress(Console(stderr=True)) as show:
        result = collect_study(loaded, full=full, waiter=Waiter(show=show), con=con)
    if json_:
        typer.echo(json.dumps(result, indent=2, default=str))
        return
    typer.echo(f"collection {result['run']}: {result['status']}; {result['pages']} pages, {result['posts']} "
               f"posts returned, {result['ingested']} new in the store")
    for platform in ("bluesky", "x"):
        if platform in result:
            typer.echo(f"{platform:>8}: {json.dumps(result[platform])}")
