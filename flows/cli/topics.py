"""Embedding and topic commands: embed, topics (fit / refresh / refit), topics show, runs, over-time, by-class."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Optional

import typer

from flows.cli.app import app, current_study, defaults, fail, redactor, store
from flows.cli.app import embedder as load_model
from flows.cli.options import DbOption, JsonOption, ModelsDirOption, PseudonymizeOption, option, settings_options
from flows.topics.settings import TopicSettings

topics_app = typer.Typer(invoke_without_command=True)  # help: the callback's docstring
app.add_typer(topics_app, name="topics")

MAPPING_LINES = 30  # a refit of thousands of topics prints the first ones; --json has them all
RunOption = Annotated[Optional[str], option("--run", help="Run id (or a unique prefix); default: the current run.")]


@contextmanager
def count_progress(label: str) -> Iterator[Callable[[int, int], None]]:
    """A progress(done, total) callback drawing one bar on stderr; silent when not a terminal."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    console = Console(stderr=True)
    progress = Progress(TextColumn(label), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                        console=console, transient=True, disable=not console.is_terminal)
    task = progress.add_task(label, total=None)
    with progress:
        yield lambda done, total: progress.update(task, completed=done, total=total)


@contextmanager
def _errors(writes: bool = False) -> Iterator[None]:
    """Embedding and topic errors become one clean line and exit code 2."""
    from flows.embed.models import EmbedError
    from flows.topics.settings import TopicError

    try:
        yield
    except (EmbedError, TopicError) as exc:
        fail(f"{exc}\nno topics were changed (embeddings computed so far stay cached)" if writes else str(exc))


@app.command()
def embed(
    db: DbOption = None,
    model: Annotated[Optional[str], typer.Option("--model", help="minilm (bundled), minilm-int8 (it as int8 ONNX, "
                                                 "2-4x faster), static (distilled from it, ~100x faster) or a "
                                                 "sentence-transformers folder or cached name "
                                                 "(default: the study's topic model, else minilm).",
                                                 show_default=False)] = None,
    where: Annotated[Optional[str], typer.Option("--where", help="SQL condition on posts (platform, post_id, "
                                                 "author_id, kind, lang, created_at, doc).")] = None,
    models_dir: ModelsDirOption = Path("data/models"),
    json_: JsonOption = False,
) -> None:
    """Embed every post's text that the cache lacks; a text is never embedded twice by one model.

    The text embedded is the post's text (a repost: the original's), without URLs and
    without the @mentions a reply starts with. Vectors are cached in the store by model
    and text hash, so re-running, or refreshing after new posts arrive, embeds only new texts.

    Example:
        ethnoflow embed --model static
    """
    from dataclasses import asdict

    from flows.embed.cache import embed_posts

    model = defaults().topic_model(model)
    with store(db) as con, _errors(writes=True):
        embedder = load_model(model, models_dir=models_dir)
        if embedder is None:
            fail("--model none: embedding needs a model (minilm, static, or a model folder)")
        with count_progress(f"embedding ({embedder.model_id})") as progress:
            counts = embed_posts(con, embedder, where=where, progress=progress)
    if json_:
        typer.echo(json.dumps(asdict(counts), indent=2))
        return
    typer.echo(f"{counts.model_id}: {counts.posts:,} posts, {counts.texts:,} distinct texts, "
               f"{counts.embedded:,} embedded now, {counts.cached:,} already cached, {counts.empty:,} empty")


@topics_app.callback()
@settings_options(TopicSettings, "seed", "min_topic_size", "nr_docs", "model", "kinds", "since", "until", "codebook",
                  "guidance", "reduce_outliers", "outlier_threshold", "representation", "backend", lang="languages")
def topics(
    ctx: typer.Context,
    overrides: dict,
    db: DbOption = None,
    refit: Annotated[bool, typer.Option("--refit", help="Fit a new run (and map the old topics onto it) "
                                        "instead of adding new posts to the current one.")] = False,
    models_dir: ModelsDirOption = Path("data/models"),
    json_: JsonOption = False,
) -> None:
    """Fit topic models, or add new posts to the current run's topics without refitting.

    The first call fits a run (BERTopic, seeded, posts in canonical order). Later calls
    assign posts that arrived since to that run's topics and change no stored assignment.
    --refit fits a new run and reports how the old topics map onto the new ones. Options
    not given keep the current run's settings. Subcommands read the runs.

    Example:
        ethnoflow topics --min-topic-size 15 --nr-docs 8
    """
    if ctx.invoked_subcommand:
        return
    from flows.topics.pipeline import run_topics, settings_with
    from flows.topics.store import current_run

    study = current_study()
    with store(db) as con, _errors(writes=True):
        current = current_run(con)
        base = study.topic_settings() if study else (current.settings if current else None)
        settings = settings_with(overrides, base)
        with count_progress("embedding") as progress:
            report = run_topics(con, settings, refit=refit, models_dir=models_dir,
                                progress=progress)
        summary = _summary(con, report)
    if json_:
        typer.echo(json.dumps(summary, indent=2))
    else:
        _print_summary(summary)


def _summary(con, report) -> dict:
    topics, outliers, agreement = con.execute("SELECT topics, outlier_share, refresh_agreement FROM topic_runs "
                                              "WHERE run_id = ?", [report.run_id]).fetchall()[0]
    return {"action": report.action, "run": report.run_id, "previous_run": report.previous_run_id,
            "assigned_now": report.assigned, "topics": topics, "outlier_share": round(outliers, 6),
            "refresh_agreement": agreement, "mapping": report.mapping}


def _print_summary(summary: dict) -> None:
    verb = "fitted" if summary["action"] == "fit" else "refreshed"
    typer.echo(f"{verb} run {summary['run']}: {summary['assigned_now']:,} posts assigned now, "
               f"{summary['topics']} topics, outlier share {summary['outlier_share']:.1%}")
    if summary["mapping"]:
        shown = summary["mapping"][:MAPPING_LINES]
        typer.echo(f"topics of the previous run {summary['previous_run']} -> this run (share of their posts):")
        for m in shown:
            typer.echo(f"  {m['previous_topic']:>4} -> {m['topic']:>4}  ({m['share']:.0%} of {m['posts']:,})")
        if len(summary["mapping"]) > len(shown):
            typer.echo(f"  ... {len(summary['mapping']) - len(shown)} more (all with --json)")
    typer.echo("see them with: ethnoflow topics show")


@topics_app.command("show")
def show_cmd(db: DbOption = None, run: RunOption = None, json_: JsonOption = False,
             pseudonymize: PseudonymizeOption = None) -> None:
    """Show a topic run: each topic's size, label, keywords, code and representative posts.

    The JSON form is a stable interface: {"run": ID, "topics": [{"topic": N, "label": S,
    "size": N, "keywords": [...]}], "assignments": {"<post id>": N}} (more keys may follow).

    Example:
        ethnoflow topics show --db study.duckdb --json
    """
    from flows.privacy.redactor import redact_document
    from flows.topics.views import show

    with store(db, read_only=True) as con, _errors():
        shown = redact_document(show(con, run), redactor(con, pseudonymize))
    if json_:
        typer.echo(json.dumps(shown, indent=2, ensure_ascii=False))
        return
    typer.echo(f"run {shown['run']} ({shown['backend']}, {shown['model']}): {shown['fitted_posts']:,} posts "
               f"fitted, outlier share {shown['outlier_share']:.1%}")
    for t in shown["topics"]:
        code = f"  [code: {t['code']} {t['code_similarity']:.2f}]" if t["code"] else ""
        code += f"  ({t['moved']:,} moved in from the outliers)" if t.get("moved") else ""
        typer.echo(f"\n{t['topic']:>4}  {t['size']:>6,} posts  {t['label']}{code}\n      "
                   + ", ".join(t["keywords"][:8]))
        for r in t["representatives"]:
            typer.echo(f"      - {' '.join((r.get('text') or '').split())[:110]}")


@topics_app.command("label")
def label_cmd(
    topic: Annotated[int, typer.Argument(help="The topic's number (as `topics show` lists it).")],
    name: Annotated[str, typer.Argument(help="Your name for it; \"\" removes the name.")],
    db: DbOption = None,
    run: RunOption = None,
) -> None:
    """Name a topic in your own words; the report and `topics show` use the name.

    The name is kept when new posts are added to the run, and a refit gives it to the new
    topic that holds most of the named topic's posts (and is mostly made of them).

    Example:
        ethnoflow topics label 3 "Gluten-free dining out"
    """
    from flows.topics.store import get_run, name_topic

    with store(db) as con, _errors():
        found = get_run(con, run)
        name_topic(con, found.run_id, topic, name)
    typer.echo(f"run {found.run_id}: topic {topic} " + (f"is now named {name.strip()!r}" if name.strip()
                                                         else "has its keyword label again"))


@topics_app.command("runs")
def runs_cmd(db: DbOption = None, json_: JsonOption = False) -> None:
    """List topic runs, newest first, with their size, outlier share and timings.

    Example:
        ethnoflow topics runs --json
    """
    from flows.topics.views import runs

    with store(db, read_only=True) as con:
        found = runs(con)
    if json_:
        typer.echo(json.dumps(found, indent=2))
        return
    for r in found:
        typer.echo(f"{r['run']}  {r['started_at'][:19]}  {r['backend']:<8} {r['fitted_posts']:>7,} posts "
                   f"{r['topics']:>4} topics  outliers {r['outlier_share']:.1%}  {r['seconds']:.1f}s")


@topics_app.command("over-time")
def over_time_cmd(db: DbOption = None, run: RunOption = None, json_: JsonOption = False) -> None:
    """Posts per topic per month (UTC), with each topic's share of the month.

    Example:
        ethnoflow topics over-time --json
    """
    from flows.topics.views import over_time

    with store(db, read_only=True) as con, _errors():
        rows = over_time(con, run)
    _print_rows(rows, ("month", "topic", "posts", "share"), json_)


@topics_app.command("by-class")
def by_class_cmd(
    db: DbOption = None,
    by: Annotated[str, typer.Option("--by", help="role (author roles) or code (codes on posts).")] = "role",
    coder: Annotated[str, typer.Option(help="For --by code: whose codes (auto, consensus, a person).")] = "auto",
    codebook: Annotated[Optional[str], typer.Option(help="For --by code: one codebook id.",
                                                    show_default=False)] = None,
    run: RunOption = None,
    json_: JsonOption = False,
) -> None:
    """Posts per topic within each class: the author's role, or each code on the post.

    Example:
        ethnoflow topics by-class --by code --coder consensus --json
    """
    from flows.topics.views import by_class

    if by not in ("role", "code"):
        fail(f"--by {by}: use role or code")
    with store(db, read_only=True) as con, _errors():
        rows = by_class(con, by, run, coder=coder, codebook=codebook)
    if rows is None:
        fail(f"no {by}s in the store yet; run `ethnoflow {'roles' if by == 'role' else 'code'}` first")
    _print_rows(rows, ("class", "topic", "posts", "share"), json_)


def _print_rows(rows: list[dict], keys: tuple[str, ...], json_: bool) -> None:
    if json_:
        typer.echo(json.dumps(rows, indent=2))
        return
    for row in rows:
        typer.echo("  ".join(f"{row[k]:.1%}" if k == "share" else str(row[k]) for k in keys))
