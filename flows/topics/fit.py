"""Fitting a topic run: choose the posts, embed them (cached), fit, describe the topics, store.

The run id is a hash of everything that decides the result (settings, embedding model, the
posts and their texts, the text rule, backend and package versions, the codebook), so the
same corpus and settings give the same run id and byte-identical topic and assignment rows,
in any database, whatever order the files were ingested in.
"""

from __future__ import annotations

import platform
import shutil
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import numpy as np

from flows.coding.codebook import Codebook, leaf_codes
from flows.embed.cache import TEXT_RULE, embed_texts
from flows.embed.models import Embedder
from flows.provenance import digest, package_versions
from flows.store.db import transaction
from flows.topics.backend import Fit, Guide, TopicBackend
from flows.topics.corpus import Docs, count_docs, select_docs
from flows.topics.guide import code_text, make_guide, topic_codebook
from flows.topics.keywords import Keywords, describe, unique_labels
from flows.topics.refresh import refresh_agreement
from flows.topics.settings import TopicError, TopicSettings
from flows.topics.store import carry_names, delete_run, insert_rows, insert_run, write_mapping
from flows.topics.vocabulary import make_vocabulary


@dataclass(frozen=True)
class FitOutcome:
    """A stored fit: its id and the figures a researcher looks at first."""

    run_id: str
    docs: int
    topics: int
    outlier_share: float
    cluster_outlier_share: float
    refresh_agreement: float | None
    model_path: str | None
    seconds: float


def run_identity(parts: dict) -> str:
    """First 16 hex digits of sha256 over the sorted-key JSON of what decides a fit: settings,
    embedding model, input hash, text rule, backend, package versions and codebook hash."""
    return digest(parts)[:16]


def centroids(x: np.ndarray, labels: np.ndarray) -> dict[int, np.ndarray]:
    """Unit-length mean embedding of each topic (outliers excluded)."""
    found = {}
    for topic in sorted(set(labels.tolist()) - {-1}):
        c = x[labels == topic].mean(axis=0)
        found[topic] = c / max(float(np.linalg.norm(c)), 1e-12)
    return found


def representatives(docs: Docs, x: np.ndarray, labels: np.ndarray, cents: dict[int, np.ndarray],
                    k: int) -> dict[int, list[tuple[int, float]]]:
    """Per topic, the k posts nearest its centroid with distinct texts: [(doc index, cosine)].

    Ties in similarity go to the smaller (platform, post id), so the choice is stable.
    """
    found = {}
    for topic, c in cents.items():
        idx = np.flatnonzero(labels == topic)
        sims = (x[idx] @ c).astype(np.float64)
        order = sorted(range(len(idx)), key=lambda j: (-sims[j], docs.platforms[idx[j]], docs.post_ids[idx[j]]))
        picked, seen = [], set()
        for j in order:
            if docs.shas[idx[j]] not in seen:
                seen.add(docs.shas[idx[j]])
                picked.append((int(idx[j]), float(sims[j])))
            if len(picked) == k:
                break
        found[topic] = picked
    return found


def _code_matches(con, embedder: Embedder, codebook: Codebook | None, guide: Guide | None, fit: Fit,
                  cents: dict[int, np.ndarray]) -> dict[int, tuple[str, float]]:
    """Per topic, its zero-shot code or else the nearest leaf code, with the cosine similarity."""
    if codebook is None or not cents:
        return {}
    codes = leaf_codes(codebook)
    vectors = embed_texts(con, embedder, [code_text(c) for c in codes])
    index = {c.id: i for i, c in enumerate(codes)}
    found = {}
    for topic, c in cents.items():
        sims = vectors @ c
        if guide and topic in fit.zeroshot_codes:
            best = index[guide.code_ids[fit.zeroshot_codes[topic]]]
        else:
            best = int(np.argmax(sims))
        found[topic] = (codes[best].id, float(sims[best]))
    return found


def _label(topic: int, keyword_label: str, zeroshot_label: str | None) -> str:
    if topic == -1:
        return "outliers"
    if zeroshot_label:
        return zeroshot_label
    return keyword_label or f"topic {topic}"


def topic_rows(run_id: str, labels: np.ndarray, fit: Fit, keywords: Keywords, matches: dict[int, tuple[str, float]],
               code_labels: dict[str, str], guide: Guide | None) -> dict:
    """The `topics` rows of a fit, column-wise, in topic order (-1 first)."""
    rows: dict[str, list] = {k: [] for k in ("run_id", "topic", "label", "size", "share", "keywords",
                                             "keyword_scores", "origin", "code_id", "code_similarity")}
    topics = sorted(set(labels.tolist()))
    named = unique_labels({t: [w for w, _ in keywords.get(t, [])] for t in topics
                           if t != -1 and not (guide and t in fit.zeroshot_codes)})
    for topic in topics:
        words = keywords.get(topic, [])
        zeroshot = guide.code_ids[fit.zeroshot_codes[topic]] if guide and topic in fit.zeroshot_codes else None
        code_id, similarity = matches.get(topic, (None, None))
        size = int((labels == topic).sum())
        values = (run_id, topic, _label(topic, named.get(topic, ""), code_labels.get(zeroshot)), size,
                  size / len(labels),
                  [w for w, _ in words], [s for _, s in words],
                  "outliers" if topic == -1 else "zeroshot" if zeroshot else "cluster", code_id, similarity)
        for key, value in zip(rows, values):
            rows[key].append(value)
    return rows


def _save_model(fit: Fit, keywords: Keywords, models_dir: Path, run_id: str) -> str | None:
    if fit.save is None:
        return None
    path = Path(models_dir) / "topics" / run_id
    shutil.rmtree(path, ignore_errors=True)
    fit.save(path, keywords)
    return str(path)


def _store(con, run: dict, docs: Docs, fit: Fit, reps: dict, topics: dict, previous: str | None) -> None:
    run_id = run["run_id"]
    if previous == run_id:  # the same inputs refitted: the run is rewritten, its lineage kept
        kept = con.execute("SELECT previous_run_id FROM topic_runs WHERE run_id = ?", [run_id]).fetchall()
        run["previous_run_id"] = kept[0][0] if kept else None
    with transaction(con):
        delete_run(con, run_id)
        insert_run(con, run)
        insert_rows(con, "topics", topics)
        insert_rows(con, "topic_representatives", {
            "run_id": [run_id] * sum(map(len, reps.values())),
            "topic": [t for t, picked in reps.items() for _ in picked],
            "rank": [r + 1 for picked in reps.values() for r in range(len(picked))],
            "platform": [docs.platforms[i] for picked in reps.values() for i, _ in picked],
            "post_id": [docs.post_ids[i] for picked in reps.values() for i, _ in picked],
            "similarity": [s for picked in reps.values() for _, s in picked]})
        insert_rows(con, "topic_assignments", {
            "run_id": [run_id] * len(docs), "platform": docs.platforms, "post_id": docs.post_ids,
            "topic": fit.labels.astype(np.int32), "probability": fit.probabilities.astype(np.float64),
            "method": fit.methods, "text_sha256": docs.shas})
        if previous and previous != run_id:
            write_mapping(con, run_id, previous)
            carry_names(con, run_id, previous)


def _resolved(used: TopicSettings, vocabulary, fit: Fit, selected: int) -> str:
    """What the fit settled itself (sizes, vocabulary, sample, outliers moved), as sorted-key JSON."""
    import json

    moved = sum(1 for m in fit.methods if m == "reduced")
    return json.dumps({"min_topic_size": used.min_topic_size, "min_samples": used.min_samples,
                       **vocabulary.describe(), "selected_posts": selected, "fitted_posts": len(fit.labels),
                       "outliers_before": fit.cluster_outliers, "outliers_moved": moved,
                       "reduce_outliers": used.reduce_outliers, "outlier_threshold": used.outlier_threshold,
                       "outlier_thresholds": _spread(fit.thresholds)}, sort_keys=True)


def _spread(thresholds: dict[int, float]) -> dict | None:
    """The lowest, median and highest of the topics' outlier thresholds (None when none moved)."""
    if not thresholds:
        return None
    values = sorted(thresholds.values())
    return {"min": values[0], "median": round(float(np.median(values)), 6), "max": values[-1]}


def fit_run(con: duckdb.DuckDBPyConnection, settings: TopicSettings, embedder: Embedder,
            backend: TopicBackend, *, models_dir: Path = Path("data/models"),
            previous_run_id: str | None = None, progress=None) -> FitOutcome:
    """Fit a new topic run over the posts ``settings`` choose, and store it atomically.

    Raises:
        TopicError: no posts to model, a codebook problem, or a model mismatch.
    """
    started, t0 = datetime.now(UTC), time.perf_counter()
    codebook = topic_codebook(settings.codebook) if settings.codebook else None  # fail before embedding
    guide = make_guide(codebook, settings) if codebook else None
    docs = select_docs(con, settings, sample=True)
    if not len(docs):
        raise TopicError("no posts to model: none match the settings' kinds, languages and dates "
                         "(or nothing is ingested yet)")
    x = embed_texts(con, embedder, docs.texts, progress=progress)
    t_embed = time.perf_counter()
    run = {"backend": backend.name, "model_id": embedder.model_id, "text_rule": TEXT_RULE,
           "settings": settings.canonical(), "input_hash": docs.input_hash(embedder.model_id),
           "versions": backend.versions() | package_versions("ethnoflow", "stopwordsiso")
           | {"python": platform.python_version()},
           "codebook_hash": codebook.content_hash if codebook else None}
    run_id = run_identity(run)
    used = settings.resolved(len(docs))
    vocabulary, languages = make_vocabulary(docs.texts, docs.langs, settings.ngram_max,
                                            extra=settings.stop_words, keep=settings.keep_words)
    fit = backend.fit(docs.texts, x, used, embedder, guide, vocabulary.vectorizer)
    t_fit = time.perf_counter()
    cents = centroids(x, fit.labels)
    keywords = fit.keywords if settings.representation == "keybert" else describe(
        docs.texts, languages, fit.labels, vocabulary, top_n=settings.top_n_words,
        representation=settings.representation, centres=cents, embedder=embedder)
    matches = _code_matches(con, embedder, codebook, guide, fit, cents)
    code_labels = {c.id: c.label for c in leaf_codes(codebook)} if codebook else {}
    topics = topic_rows(run_id, fit.labels, fit, keywords, matches, code_labels, guide)
    reps = representatives(docs, x, fit.labels, cents, settings.nr_docs)
    run |= {"run_id": run_id, "previous_run_id": previous_run_id, "docs": len(docs), "topics": len(cents),
            "outlier_share": float((fit.labels == -1).mean()),
            "cluster_outlier_share": fit.cluster_outliers / len(docs),
            "refresh_agreement": refresh_agreement(x, fit.labels, settings.n_neighbors, settings.seed),
            "model_path": _save_model(fit, keywords, models_dir, run_id), "started_at": started,
            "embed_seconds": t_embed - t0, "fit_seconds": t_fit - t_embed,
            "resolved": _resolved(used, vocabulary, fit, count_docs(con, settings))}
    run["total_seconds"] = time.perf_counter() - t0
    _store(con, run, docs, fit, reps, topics, previous_run_id)
    return FitOutcome(run_id, len(docs), len(cents), run["outlier_share"], run["cluster_outlier_share"],
                      run["refresh_agreement"], run["model_path"], run["total_seconds"])
