"""`ethnoflow topics`: fit the first run, refresh it with new posts, or refit on request."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import duckdb
from pydantic import ValidationError

from flows.embed.models import Embedder, load_embedder
from flows.topics.backend import KMeansBackend, TopicBackend
from flows.topics.fit import FitOutcome, fit_run
from flows.topics.refresh import refresh_run
from flows.topics.settings import TopicError, TopicSettings
from flows.topics.store import current_run, get_run, mapping


@dataclass
class TopicReport:
    """What `run_topics` did."""

    action: Literal["fit", "refresh"]
    run_id: str
    previous_run_id: str | None
    assigned: int                      # posts given a topic by this call
    fit: FitOutcome | None = None
    mapping: list[dict] = field(default_factory=list)  # refit: previous topic -> new topic


def get_backend(name: str) -> TopicBackend:
    """``bertopic`` (the default) or ``kmeans`` (fast, deterministic, for tests and demos)."""
    if name == "bertopic":
        from flows.topics.bertopic_backend import BERTopicBackend

        return BERTopicBackend()
    if name == "kmeans":
        return KMeansBackend()
    raise TopicError(f"unknown topic backend '{name}'; use bertopic or kmeans")


def settings_with(overrides: dict[str, Any], base: TopicSettings | None) -> TopicSettings:
    """``base`` (the current run's settings, else the defaults) with ``overrides`` applied.

    Options left as None are not overrides. Raises TopicError naming the bad option.
    """
    given = {k: v for k, v in overrides.items() if v is not None}
    try:
        return TopicSettings.model_validate({**(base or TopicSettings()).model_dump(), **given})
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'settings'}: {e['msg']}" for e in exc.errors())
        raise TopicError(f"topic settings: {problems}") from exc


def _differences(a: TopicSettings, b: TopicSettings) -> str:
    da, db = a.model_dump(mode="json"), b.model_dump(mode="json")
    return ", ".join(f"{k} {da[k]!r} -> {db[k]!r}" for k in da if da[k] != db[k])


def run_topics(con: duckdb.DuckDBPyConnection, settings: TopicSettings | None = None, *,
               refit: bool = False, embedder: Embedder | None = None,
               backend: str | TopicBackend | None = None, models_dir: Path = Path("data/models"),
               progress=None) -> TopicReport:
    """Bring topics up to date without drift.

    With no run yet, or ``refit``, fit a new run (a refit also records how the previous run's
    topics map onto the new ones). Otherwise assign the posts that arrived since the current
    run to its topics; stored assignments never change.

    Args:
        settings: what to model; None means the current run's settings (else the defaults).
        embedder: the embedding model; None loads ``settings.model``.
        backend: ``bertopic``, ``kmeans`` or a TopicBackend (used only when fitting).

    Raises:
        TopicError: settings differ from the current run's without ``refit``, or the fit fails.
    """
    current = current_run(con)
    settings = settings or (current.settings if current else TopicSettings())
    if current and not refit and settings != current.settings:
        raise TopicError(f"the current topic run {current.run_id} was fitted with other settings "
                         f"({_differences(current.settings, settings)}); pass --refit to fit a new "
                         "run with these, or leave the options out to add new posts to the current run")
    embedder = embedder or load_embedder(settings.model, models_dir=models_dir)
    if current and not refit:
        added = refresh_run(con, current, embedder, progress=progress)
        return TopicReport("refresh", current.run_id, current.previous_run_id, added)
    backend = backend or settings.backend  # a backend passed in (a sub-model) wins over the settings'
    backend = get_backend(backend) if isinstance(backend, str) else backend
    previous = current.run_id if current else None
    outcome = fit_run(con, settings, embedder, backend, models_dir=models_dir,
                      previous_run_id=previous, progress=progress)
    rest = refresh_run(con, get_run(con, outcome.run_id), embedder, progress=progress)  # beyond the sample
    changed = previous and previous != outcome.run_id
    return TopicReport("fit", outcome.run_id, previous, outcome.docs + rest, outcome,
                       mapping(con, outcome.run_id) if changed else [])
