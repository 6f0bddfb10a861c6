"""The pipeline's stages, written once: `STAGES` says each stage's name, function, and the tables it
reads and writes, in the order a run takes them.

Every stage is a plain function of a `Context` (the study and the models to use). It opens the
study's store, does only what is new (new files, uncached texts, posts not yet coded or
assigned), writes atomically and returns its counts, so a failed stage leaves its tables as they
were and the next run resumes from it. The plain runner (`flows.run.runner.run_study`), the
Prefect flow (`flows.run.flow`) and `ethnoflow run` all take the stages from `STAGES`.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from glob import glob
from pathlib import Path
from typing import Any

from flows.store.db import connect
from flows.study.model import Study

# Readers (`ethnoflow status`, `agreement`, a notebook) hold the file for moments and take no
# study lock; a stage waits this long for them rather than failing the run.
READER_WAIT = 300.0


@dataclass(frozen=True)
class Models:
    """The sub-models a run uses, passed in as BERTopic takes its sub-models; None: the study's.

    Attributes:
        embedder: one embedder for every stage (e.g. a fake in tests); None loads the models the
            study names (``topics.model``, ``coding.embedder``) when a stage first needs them.
        topic_backend: "bertopic", "kmeans" (a fast stand-in) or a backend object.
        encode_map: where embedding batches run (the Prefect flow's Dask task map), or None.
    """

    embedder: Any = None
    topic_backend: Any = None
    encode_map: Callable | None = None


@dataclass
class Context:
    """What every stage is given: the study, and the models to use (loaded at most once a run)."""

    study: Study
    models: Models = field(default_factory=Models)
    _loaded: dict[str, Any] = field(default_factory=dict, repr=False)

    def embedder(self, name: str | None = None, *, mapped: bool = False):
        """The embedder passed in, else the study's model ``name`` (default: the topic model)."""
        if self.models.embedder is not None:
            model = self.models.embedder
        else:
            from flows.embed.models import load_embedder

            name = name or self.study.topics.model
            if name not in self._loaded:
                self._loaded[name] = load_embedder(name, models_dir=self.study.path("data/models"))
            model = self._loaded[name]
        if mapped and self.models.encode_map is not None:
            from flows.embed.distributed import MappedEmbedder

            return MappedEmbedder(model, self.models.encode_map)
        return model

    @property
    def topic_backend(self):
        """The topic backend passed in, or None: the one the topic settings name."""
        return self.models.topic_backend

    @contextmanager
    def store(self) -> Iterator:
        """The study's database, open for one stage."""
        con = connect(self.study.path(self.study.database), wait=READER_WAIT)
        try:
            yield con
        finally:
            con.close()


def source_files(study: Study) -> list[Path]:
    """The inbox's files and the study's other source paths (globs expanded), sorted."""
    files: set[Path] = set()
    inbox = study.path(study.sources.inbox)
    if inbox.is_dir():
        files.update(f for f in inbox.rglob("*") if f.is_file() and not f.name.startswith("."))
    for pattern in study.sources.paths:
        files.update(Path(p) for p in glob(str(study.path(pattern)), recursive=True) if Path(p).is_file())
    return sorted(files)


def collect_stage(ctx: Context) -> dict:
    """Fetch the study's accounts and queries (study.yaml `collect:`) from Bluesky and X into the store."""
    if ctx.study.collect is None:
        return {"skipped": "study.yaml has no collect: section"}
    from flows.collect.collect import collect_study
    from flows.collect.limits import Waiter

    def said(why: str, done: float, total: float) -> None:  # a scheduled run's log says why it paused
        if done == 0:
            print(f"collect: {why}: {total:.0f} s", file=sys.stderr, flush=True)

    with ctx.store() as con:
        return collect_study(ctx.study, con=con, waiter=Waiter(show=said))


def ingest_stage(ctx: Context) -> dict:
    """Ingest new files of the inbox and source paths (known files are skipped by sha256)."""
    from flows.ingest.files import ingest

    study = ctx.study
    files, settling = settled(source_files(study), study.sources.settle_seconds)
    mapping = study.path(study.sources.mapping) if study.sources.mapping else None
    with ctx.store() as con:
        reports = ingest(con, files, fmt=study.sources.format, mapping=mapping, skip_refused=True) if files else []
    new = [r for r in reports if not r.skipped]
    refused = [r for r in reports if r.refused]
    warnings = [f"{p}: changed less than {study.sources.settle_seconds:g} s ago (still being written?); "
                "it waits for the next run" for p in settling]
    warnings += [f"skipped {r.refused}" if r.refused.startswith(r.path) else f"skipped {r.path}: {r.refused}"
                 for r in refused if not r.refused_before]
    counts = {"files": len(reports), "new_files": len(new), "ingested": sum(r.ingested for r in new),
              "duplicates": sum(r.duplicates for r in new), "rejected": sum(r.rejected for r in new),
              "superseded": sum(1 for r in new if r.supersedes), "not_corpus": len(refused),
              "settling": len(settling)}
    return counts | ({"warnings": warnings} if warnings else {})


def settled(files: list[Path], seconds: float, now: float | None = None) -> tuple[list[Path], list[Path]]:
    """Split files into those unmodified for ``seconds`` and those modified more recently (being written).

    A copy in progress has a fresh mtime, also with ``cp -p`` (it sets the original's mtime only when
    done); ``rsync`` writes to a hidden temporary file, which is never read.
    """
    if seconds <= 0:
        return files, []
    now = time.time() if now is None else now
    ready, settling = [], []
    for f in files:
        try:
            st = f.stat()
        except FileNotFoundError:  # moved away since the listing
            continue
        (settling if now - st.st_mtime < seconds else ready).append(f)
    return ready, settling


def embed_stage(ctx: Context) -> dict:
    """Embed the posts the cache lacks, with the topic model's embedding model."""
    from flows.embed.cache import embed_posts

    with ctx.store() as con:
        counts = embed_posts(con, ctx.embedder(mapped=True))
    return {"model": counts.model_id, "texts": counts.texts, "embedded": counts.embedded, "cached": counts.cached}


def topics_stage(ctx: Context) -> dict:
    """Fit the topic model once; afterwards assign only new posts to its topics.

    A refit is an explicit choice (`ethnoflow topics --refit`): when the study's topic
    settings were edited since the current run, runs keep refreshing that run and say so.
    """
    from flows.topics.pipeline import run_topics
    from flows.topics.store import current_run

    settings, note = ctx.study.topic_settings(), None
    with ctx.store() as con:
        current = current_run(con)
        if current and current.settings != settings:
            settings = current.settings
            note = "study.yaml's topic settings differ from the current run's: run `ethnoflow topics --refit`"
        report = run_topics(con, settings, embedder=ctx.embedder(settings.model), backend=ctx.topic_backend,
                            models_dir=ctx.study.path("data/models"))
    out = {"run": report.run_id, "action": report.action, "assigned": report.assigned}
    return out | ({"note": note} if note else {})


def code_stage(ctx: Context) -> dict:
    """Machine-code every codebook of the study; only new or changed posts are coded."""
    from flows.coding.codebook import resolve_codebook
    from flows.coding.machine import code_corpus

    study = ctx.study
    embedder = None if study.coding.embedder == "none" else ctx.embedder(study.coding.embedder, mapped=True)
    out = {}
    with ctx.store() as con:
        for ref in study.coding.codebooks:
            codebook = resolve_codebook(ref, schemes=study.path("coding_schemes"))
            result = code_corpus(con, codebook, embedder=embedder, train_from=study.coding.train_from or None,
                                 seed=study.seed, threshold=study.coding.validation_threshold)
            out[codebook.id] = {"posts": result["posts"], "coded": result["coded"]}
    return out


def people_stage(ctx: Context) -> dict:
    """Roles (when bios changed), tweet chats, the interaction network and the superusers."""
    from flows.people.stage import update_people

    study = ctx.study
    overrides = study.path("data/roles.csv")
    with ctx.store() as con:
        selected = update_people(con, embedder=ctx.embedder, overrides=overrides if overrides.exists() else None,
                                 network=study.network.model_copy(update={"seed": study.seed}), chats=study.chats,
                                 criteria=study.superusers)
    return {"candidates": len(selected), "selected": sum(r["selected"] for r in selected)}


def report_stage(ctx: Context) -> dict:
    """Write the study's report (reports/<study>/): byte-identical when nothing changed."""
    from flows.report.build import build_report

    study = ctx.study
    with ctx.store() as con:
        result = build_report(con, study.path("reports") / study.name, study.report_settings(),
                              study=study.report_context())
    return {"report": str(result.html), "empty_sections": sorted(k for k, v in result.sections.items() if v != "ok")}


def export_stage(ctx: Context) -> dict:
    """Write the study's standing exports (study.yaml `export: formats`) into exports/."""
    from flows.export.dataset import export_dataset
    from flows.export.selection import ExportOptions

    study, spec = ctx.study, ctx.study.export
    if not spec.formats:
        return {"formats": []}
    codebook = spec.codebook or (study.coding.codebooks[0] if study.coding.codebooks else None)
    written = {}
    with ctx.store() as con:
        for fmt in spec.formats:
            options = ExportOptions(fmt=fmt, codebook=codebook, coders=(spec.coder,) if fmt != "qdpx" else (),
                                    pseudonymize=study.pseudonymize, remove_urls=spec.remove_urls,
                                    no_text=spec.no_text, qdpx_unit=spec.qdpx_unit, qdpx_for=spec.qdpx_for,
                                    study_hash=study.sha256, force=True, since=_iso(study.inclusion.since),
                                    until=_iso(study.inclusion.until))
            out = study.path("exports") / (f"{study.name}-ids" if fmt == "ids" else f"{study.name}.{fmt}")
            out.parent.mkdir(parents=True, exist_ok=True)
            written[fmt] = export_dataset(con, out, options)["files"]
    return {"formats": list(spec.formats), "files": written}


def _iso(day) -> str | None:
    return day.isoformat() if day else None


@dataclass(frozen=True)
class Stage:
    """One stage of a run: its function, what it reads and writes, and whether its embedding
    batches can go to a Dask cluster (`executor: dask`)."""

    name: str
    run: Callable[[Context], dict]
    reads: tuple[str, ...]
    writes: tuple[str, ...]
    batches: bool = False
    io: bool = False  # reads or writes files that may be busy for a moment (retried in Prefect)

    @property
    def summary(self) -> str:
        """The first line of the stage function's docstring."""
        return (self.run.__doc__ or "").strip().splitlines()[0]


STAGES: tuple[Stage, ...] = (
    Stage("collect", collect_stage, reads=("collect_seeds", "Bluesky", "the X API"), io=True,
          writes=("collect_runs", "collect_calls", "collect_seeds", "collect_flags", "post_deletions",
                  "data/collected/", "sources", "raw_records", "posts")),
    Stage("ingest", ingest_stage, reads=("inbox files", "sources", "withdrawal_blocklist"), io=True,
          writes=("sources", "raw_records", "posts", "authors", "entities", "rejects")),
    Stage("embed", embed_stage, reads=("posts",), writes=("embeddings",), batches=True),
    Stage("topics", topics_stage, reads=("posts", "embeddings"),
          writes=("topic_runs", "topics", "topic_representatives", "topic_assignments", "topic_months")),
    Stage("code", code_stage, reads=("posts", "embeddings", "code_assignments (human coders)"),
          writes=("codebook_versions", "codebook_current", "coder_models", "code_assignments"), batches=True),
    Stage("people", people_stage, reads=("posts", "authors", "entities", "code_assignments"),
          writes=("author_roles", "chats", "chat_participation", "interactions", "network_edges",
                  "network_centrality", "mentorship_candidates", "sponsorship_events", "superuser_candidates")),
    Stage("report", report_stage, reads=("the report views",), writes=("reports/<study>/",), io=True),
    Stage("export", export_stage, reads=("posts", "code_assignments", "topic_assignments"),
          writes=("exports/",), io=True),
)


def markdown_table() -> str:
    """The stages as the README's table (`python -m flows.run.stages` prints it)."""
    lines = ["| stage | what it does | reads | writes |", "|---|---|---|---|"]
    for stage in STAGES:
        reads, writes = (", ".join(f"`{item}`" for item in items) for items in (stage.reads, stage.writes))
        lines.append(f"| {stage.name} | {stage.summary} | {reads} | {writes} |")
    return "\n".join(lines)


if __name__ == "__main__":
    print(markdown_table())
