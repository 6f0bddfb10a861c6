"""The pipeline's stages as plain functions of a study: what `ethnoflow run` runs, in order.

Each stage opens the study's store, does only what is new (new files, uncached texts, posts
not yet coded or assigned), and returns counts. Each writes atomically, so a failed stage
leaves its tables as they were and the next run resumes from it. The Prefect flow
(`flows.run.flow`) wraps these; tests and scripts can call them directly.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from glob import glob
from pathlib import Path

from flows.store.db import connect
from flows.study.model import Study

Stage = Callable[[Study], dict]
TOPIC_BACKEND = "bertopic"  # the pipeline's topic model (tests swap in the fast "kmeans" stand-in)
# Readers (`ethnoflow status`, `agreement`, a notebook) hold the file for moments and take no
# study lock; a stage waits this long for them rather than failing the run.
READER_WAIT = 300.0


@contextmanager
def study_store(study: Study) -> Iterator:
    """The study's database, open for one stage."""
    con = connect(study.path(study.database), wait=READER_WAIT)
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


def ingest_stage(study: Study) -> dict:
    """Ingest new files of the inbox and source paths (known files are skipped by sha256)."""
    from flows.ingest.files import ingest

    files = source_files(study)
    mapping = study.path(study.sources.mapping) if study.sources.mapping else None
    with study_store(study) as con:
        reports = ingest(con, files, fmt=study.sources.format, mapping=mapping) if files else []
    new = [r for r in reports if not r.skipped]
    return {"files": len(reports), "new_files": len(new), "ingested": sum(r.ingested for r in new),
            "duplicates": sum(r.duplicates for r in new), "rejected": sum(r.rejected for r in new)}


def embedder_for(study: Study, name: str | None = None):
    """The study's embedding model (loaded only when something needs encoding)."""
    from flows.embed.models import load_embedder

    return load_embedder(name or study.topics.model, models_dir=study.path("data/models"))


def embed_stage(study: Study, encode_map=None) -> dict:
    """Embed the posts the cache lacks, with the topic model's embedding model."""
    from flows.embed.cache import embed_posts

    with study_store(study) as con:
        counts = embed_posts(con, _mapped(embedder_for(study), encode_map))
    return {"model": counts.model_id, "texts": counts.texts, "embedded": counts.embedded, "cached": counts.cached}


def _mapped(embedder, encode_map):
    """The embedder with its batches sent through `encode_map` (e.g. to a Dask cluster)."""
    if encode_map is None:
        return embedder
    from flows.embed.distributed import MappedEmbedder

    return MappedEmbedder(embedder, encode_map)


def topics_stage(study: Study) -> dict:
    """Fit the topic model once; afterwards assign only new posts to its topics.

    A refit is an explicit choice (`ethnoflow topics --refit`): when the study's topic
    settings were edited since the current run, runs keep refreshing that run and say so.
    """
    from flows.topics.pipeline import run_topics
    from flows.topics.store import current_run

    settings, note = study.topic_settings(), None
    with study_store(study) as con:
        current = current_run(con)
        if current and current.settings != settings:
            settings = current.settings
            note = "study.yaml's topic settings differ from the current run's: run `ethnoflow topics --refit`"
        report = run_topics(con, settings, embedder=embedder_for(study, settings.model),
                            backend=TOPIC_BACKEND, models_dir=study.path("data/models"))
    out = {"run": report.run_id, "action": report.action, "assigned": report.assigned}
    return out | ({"note": note} if note else {})


def code_stage(study: Study, encode_map=None) -> dict:
    """Machine-code every codebook of the study; only new or changed posts are coded."""
    from flows.coding.machine import code_corpus
    from flows.coding.store import resolve_codebook

    out = {}
    embedder = None if study.coding.embedder == "none" else _mapped(embedder_for(study, study.coding.embedder),
                                                                     encode_map)
    with study_store(study) as con:
        for ref in study.coding.codebooks:
            codebook = resolve_codebook(ref, schemes=study.path("coding_schemes"))
            result = code_corpus(con, codebook, embedder=embedder, train_from=study.coding.train_from or None,
                                 seed=study.seed)
            out[codebook.id] = {"posts": result["posts"], "coded": result["coded"]}
    return out


def network_stage(study: Study) -> dict:
    """Roles (when bios changed), tweet chats, the interaction network and the superusers."""
    from flows.people.superusers import prepare, select_superusers

    network = study.network.model_copy(update={"seed": study.seed})
    with study_store(study) as con:
        prepare(con, embedder=lambda: embedder_for(study), overrides=_overrides(study), network=network,
                chats=study.chats)
        selected = select_superusers(con, study.superusers)
    return {"candidates": len(selected), "selected": sum(r["selected"] for r in selected)}


def _overrides(study: Study) -> Path | None:
    path = study.path("data/roles.csv")
    return path if path.exists() else None


def report_stage(study: Study) -> dict:
    """Write the study's report (reports/<study>/): byte-identical when nothing changed."""
    from flows.report.build import build_report

    with study_store(study) as con:
        result = build_report(con, study.path("reports") / study.name, study.report_settings(),
                              study=study.report_context())
    return {"report": str(result.html), "empty_sections": sorted(k for k, v in result.sections.items() if v != "ok")}


def export_stage(study: Study) -> dict:
    """Write the study's standing exports (study.yaml `export: formats`) into exports/."""
    from flows.export.dataset import export_dataset
    from flows.export.selection import ExportOptions

    spec = study.export
    if not spec.formats:
        return {"formats": []}
    codebook = spec.codebook or (study.coding.codebooks[0] if study.coding.codebooks else None)
    written = {}
    with study_store(study) as con:
        for fmt in spec.formats:
            options = ExportOptions(fmt=fmt, codebook=codebook, coders=(spec.coder,) if fmt != "qdpx" else (),
                                    pseudonymize=study.pseudonymize, remove_urls=spec.remove_urls,
                                    no_text=spec.no_text, qdpx_unit=spec.qdpx_unit, study_hash=study.sha256,
                                    force=True)
            out = study.path("exports") / (f"{study.name}-ids" if fmt == "ids" else f"{study.name}.{fmt}")
            out.parent.mkdir(parents=True, exist_ok=True)
            written[fmt] = export_dataset(con, out, options)["files"]
    return {"formats": list(spec.formats), "files": written}


STAGES: list[tuple[str, Stage]] = [
    ("ingest", ingest_stage),
    ("embed", embed_stage),
    ("topics", topics_stage),
    ("code", code_stage),
    ("network", network_stage),
    ("report", report_stage),
    ("export", export_stage),
]
