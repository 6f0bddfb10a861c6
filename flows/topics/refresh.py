"""Assigning new posts to a fitted run's topics, without drift.

A refresh never refits and never touches a stored assignment. Each new post gets the topic of
its nearest fitted posts: a post whose exact text was fitted takes that post's topic; any
other votes among its ``n_neighbors`` most similar fitted posts (cosine, in the embedding
space the fit clustered), each vote weighted by similarity; outliers vote too, so a post
that lands among outliers stays an outlier.

Why not BERTopic's ``transform``: it re-runs UMAP's stochastic optimisation over each batch of
new posts, so a post's topic could depend on which other posts arrived with it, and it
reassigns fitted posts when asked about them. This rule needs nothing beyond the stored run
(its assignments and the cached embeddings, so "loading the model" cannot change it), gives a
post the same topic whichever refresh it arrives in, and gives every fitted post its own
topic back. How faithful it is to the fit is measured at fit time, leaving each sampled post
out (``topic_runs.refresh_agreement``).

The same rule assigns the posts a fit left out of its sample (a corpus larger than
``fit_sample``), in batches of :data:`BATCH` posts: memory holds one batch and the reference,
whatever the corpus's size. The reference is the fitted posts, at most :data:`REFERENCE_MAX`
of them (those first by a seeded hash of their key, so the choice does not depend on order).
"""

from __future__ import annotations

import hashlib

import duckdb
import numpy as np

from flows.embed.cache import embed_texts, vectors_for
from flows.embed.models import Embedder
from flows.store.db import transaction
from flows.topics.corpus import select_docs
from flows.topics.settings import TopicError
from flows.topics.store import RunInfo, assignments, insert_rows

CHUNK = 1024  # query rows per similarity block: CHUNK x reference posts floats in memory
SLACK = 8     # candidates beyond k kept before rounding
AGREEMENT_SAMPLE = 2000
BATCH = 50_000          # posts embedded and assigned at a time
REFERENCE_MAX = 20_000  # fitted posts new posts are compared with


def knn_vote(queries: np.ndarray, reference: np.ndarray, labels: np.ndarray, k: int, *,
             leave_out: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Each query's topic by a similarity-weighted vote of its k nearest reference rows.

    Similarities are rounded to 5 decimals before the neighbours are chosen (ties: the smaller
    reference row): BLAS may sum a row differently in a block of another size, and a post's
    topic must not depend on which other posts it arrived with. The rounding is applied to the
    best ``k + SLACK`` candidates (and any tied with the last) only, which is where it can matter.

    Args:
        leave_out: per query, a reference row it may not use (itself, for leave-one-out).

    Returns:
        (topics, vote shares); ties go to the smaller topic number.
    """
    k = max(1, min(k, len(reference) - (leave_out is not None)))
    pool = min(len(reference), k + SLACK)
    classes, codes = np.unique(labels, return_inverse=True)  # ascending: ties go to the smaller topic
    topics = np.empty(len(queries), dtype=np.int64)
    shares = np.empty(len(queries), dtype=np.float64)
    for start in range(0, len(queries), CHUNK):
        sims = queries[start:start + CHUNK] @ reference.T
        m = len(sims)
        if leave_out is not None:
            sims[np.arange(m), leave_out[start:start + CHUNK]] = -np.inf
        # the candidates: every reference row at least as similar as the row's pool-th best
        # (np.partition of values, then a mask: a third of argpartition's time on 20,000 columns)
        kth = np.partition(sims, sims.shape[1] - pool, axis=1)[:, sims.shape[1] - pool]
        rows, cand = np.nonzero(sims >= kth[:, None])
        near = np.round(sims[rows, cand], 5)
        order = np.lexsort((cand, -near, rows))  # per row: most similar first, ties the smaller row
        rows, cand, near = rows[order], cand[order], near[order]
        first = np.searchsorted(rows, np.arange(m))
        pick = (first[:, None] + np.arange(k)).ravel()
        top, top_sims = cand[pick].reshape(m, k), near[pick].reshape(m, k)
        weights = np.maximum(top_sims.astype(np.float64), 0.0) + 1e-9
        votes = np.zeros((m, len(classes)))
        np.add.at(votes, (np.repeat(np.arange(m), k), codes[top].ravel()), weights.ravel())  # neighbour order
        best = votes.argmax(axis=1)
        topics[start:start + m] = classes[best]
        shares[start:start + m] = votes[np.arange(m), best] / weights.sum(axis=1)
    return topics, shares


def assign(queries: np.ndarray, query_shas: list[str], reference: np.ndarray, ref_shas: list[str],
           ref_labels: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Topics for new posts: a fitted post's topic for the same text, else the k-NN vote."""
    by_text: dict[str, dict[int, int]] = {}
    for sha, label in zip(ref_shas, ref_labels.tolist()):
        by_text.setdefault(sha, {}).setdefault(label, 0)
        by_text[sha][label] += 1
    topics, shares = knn_vote(queries, reference, ref_labels, k)
    for i, sha in enumerate(query_shas):
        if sha in by_text:  # the same text was fitted: take its (most common) topic
            counts = by_text[sha]
            topics[i] = min(counts, key=lambda t: (-counts[t], t))
            shares[i] = 1.0
    return topics, shares


def refresh_agreement(x: np.ndarray, labels: np.ndarray, k: int, seed: int) -> float | None:
    """Share of fitted posts (up to a seeded sample of 2,000) the refresh rule puts back in
    their own topic when each is left out of the reference."""
    if len(x) < 2:
        return None
    rng = np.random.default_rng(seed)
    sample = np.arange(len(x)) if len(x) <= AGREEMENT_SAMPLE else np.sort(
        rng.choice(len(x), AGREEMENT_SAMPLE, replace=False))
    topics, _ = knn_vote(x[sample], x, labels, k, leave_out=sample)
    return round(float((topics == labels[sample]).mean()), 6)


def reference(platforms: list[str], post_ids: list[str], seed: int, size: int = REFERENCE_MAX) -> np.ndarray:
    """Indices (ascending) of the fitted posts a refresh compares with: all, or ``size`` of them
    first by sha256 of (seed, platform, post id)."""
    if len(post_ids) <= size:
        return np.arange(len(post_ids))
    keys = [hashlib.sha256(f"{seed}:{p}:{i}".encode()).digest() for p, i in zip(platforms, post_ids)]
    return np.sort(np.array(sorted(range(len(keys)), key=keys.__getitem__)[:size]))


def refresh_run(con: duckdb.DuckDBPyConnection, run: RunInfo, embedder: Embedder, *,
                progress=None, batch: int = BATCH) -> int:
    """Assign the posts the run's settings choose but the run lacks; return how many.

    Works through them in batches of ``batch`` posts in canonical order: each batch embeds
    only texts the cache lacks (the cache commits as it goes) and writes its assignments in
    one transaction, so an interrupted refresh resumes where it stopped.
    """
    if embedder.model_id != run.model_id:
        raise TopicError(f"run {run.run_id} was fitted on {run.model_id} embeddings, not "
                         f"{embedder.model_id}; refresh with that model or refit (--refit)")
    ref = None
    done = 0
    while True:
        new = select_docs(con, run.settings, unassigned_in=run.run_id, limit=batch)
        if not len(new):
            return done
        if ref is None:
            platforms, post_ids, ref_labels, ref_shas = assignments(con, run.run_id, fitted_only=True)
            keep = reference(platforms, post_ids, run.settings.seed)
            ref_labels, ref_shas = ref_labels[keep], [ref_shas[i] for i in keep]
            ref = vectors_for(con, run.model_id, ref_shas)
        queries = embed_texts(con, embedder, new.texts, progress=progress)
        topics, shares = assign(queries, new.shas, ref, ref_shas, ref_labels, run.settings.n_neighbors)
        with transaction(con):
            insert_rows(con, "topic_assignments", {
                "run_id": [run.run_id] * len(new), "platform": new.platforms, "post_id": new.post_ids,
                "topic": topics.astype(np.int32), "probability": shares, "method": ["refresh"] * len(new),
                "text_sha256": new.shas})
        done += len(new)
