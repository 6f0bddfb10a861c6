"""Corpus commands: ingest, status, reparse, and the sample study."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Optional

import typer

from flows.cli.app import app, fail, store
from flows.cli.options import DbOption, JsonOption


@app.command()
def ingest(
    paths: Annotated[list[Path], typer.Argument(help="Files or folders of corpus files.", show_default=False)],
    db: DbOption = None,
    format: Annotated[str, typer.Option("--format", help="auto, twarc2, v2, v1, archive, csv or bluesky.")] = "auto",
    mapping: Annotated[Optional[Path], typer.Option(help="Column mapping (YAML) for a generic CSV.")] = None,
) -> None:
    """Ingest tweet and post files into the store, losslessly.

    Formats are detected per file: twarc2 JSONL (pages and flattened lines), API v2
    documents, API v1.1 (arrays, search results, stream lines), the X archive's tweets.js,
    CSV exports (twarc-csv, twitwi, Topsy, or any CSV with --mapping) and Bluesky posts.
    Re-ingesting a file changes nothing. Every record is stored, counted as a duplicate
    or kept in the rejects table with its reason.

    Example:
        ethnoflow ingest --db study.duckdb data/inbox/ tweets.js
    """
    from rich.console import Console

    from flows.cli.progress import byte_progress
    from flows.ingest.files import ingest as run_ingest
    from flows.ingest.formats import NotACorpus

    with store(db) as con:
        try:
            with byte_progress(Console(stderr=True)) as progress:
                reports = run_ingest(con, paths, fmt=format, mapping=mapping, progress=progress)
        except NotACorpus as exc:
            fail(f"{exc}\nnothing was ingested; the database is unchanged")
    from flows.cli.progress import ingest_table

    Console().print(ingest_table(reports))


@app.command()
def status(db: DbOption = None, json_: JsonOption = False, wait: Annotated[float, typer.Option(
        "--wait", help="Seconds to wait while a run or command is writing to the database.")] = 30.0) -> None:
    """Show what the store holds: posts, authors, sources, rejects, dates, platforms.

    During a run the database is free between stages: status waits for such a moment (up to
    --wait seconds), so it can be called at any time.

    Example:
        ethnoflow status --json --wait 120
    """
    from flows.store.status import status as run_status

    with store(db, read_only=True, wait=wait) as con:
        result = run_status(con)
    if json_:
        typer.echo(json.dumps(result, indent=2))
        return
    for key, value in result.items():
        typer.echo(f"{key:>10}: {value}")


@app.command()
def reparse(db: DbOption = None) -> None:
    """Rebuild posts, authors, entities and rejects from the stored raw records.

    Run it after upgrading ethnoflow when a parser was fixed: raw records are kept
    exactly as collected, so nothing needs to be ingested again.

    Example:
        ethnoflow reparse --db study.duckdb
    """
    from flows.ingest.reparse import reparse as run_reparse

    with store(db) as con:
        counts = run_reparse(con)
    typer.echo(f"re-parsed {counts['sources']} sources: {counts['posts']} posts, {counts['rejects']} rejects")


@app.command("sample-corpus")
def sample_corpus(
    out: Annotated[Path, typer.Option(
        help="Folder to write the corpus and its ground truth into.")] = Path("data/sample"),
    seed: Annotated[int, typer.Option(help="Random seed: the same seed writes the same bytes.")] = 2015,
    tweets: Annotated[int, typer.Option(help="About how many tweets to write.")] = 6000,
) -> None:
    """Write the fictional #MedTwitter superuser corpus (twarc2 JSONL) and its ground truth.

    Invented people only. The same seed always writes byte-identical files.

    Example:
        ethnoflow sample-corpus --out data/sample --seed 2015
    """
    from flows.sample.generate import generate

    manifest = generate(out, seed=seed, tweets=tweets)
    typer.echo(json.dumps(manifest, indent=2))
