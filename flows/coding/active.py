"""Active learning: draw the next coding round where the machine is least sure, or most varied.

The strategies of ``ethnoflow sample --strategy``:

- ``stratified`` (the default): a seeded random draw, allocated proportionally over the
  ``--stratify`` strata (none: a simple random sample); see :func:`flows.coding.rounds.draw`.
- ``uncertain``: the posts whose machine probability is nearest its code's decision threshold
  (the closest code counts), with diversity: of the :data:`POOL` x n least certain posts, n are
  taken by farthest-point selection over their embeddings, from a seeded random first post, so
  one round is not n near-copies of the same borderline post.
- ``diverse``: farthest-point selection over every eligible post's embedding, from a seeded
  random first post: a round that covers the corpus's variety.

The probability is ``auto:supervised``'s where that code has a model, else ``auto:semantic``'s
(both are probabilities with a per-code threshold in ``coder_models``). Ties are broken by the
canonical post order (platform, post id), so the same store, arguments and seed give the same
round whatever order the posts were ingested in.
"""

from __future__ import annotations

import json

import duckdb
import numpy as np
import pandas as pd

STRATEGIES = ("stratified", "uncertain", "diverse")
POOL = 3
SOURCES = ("auto:supervised", "auto:semantic")  # in order of preference


def uncertainty(scores: dict[str, np.ndarray], thresholds: dict[str, float]) -> np.ndarray:
    """Per post, 1 at a code's threshold falling to 0 at certainty (0 or 1), the highest over codes."""
    rows = [1 - np.abs(np.asarray(s, dtype=float) - thresholds[c]) / max(thresholds[c], 1 - thresholds[c])
            for c, s in sorted(scores.items())]
    return np.clip(np.max(np.vstack(rows), axis=0), 0, 1)


def farthest(vectors: np.ndarray, n: int, rng: np.random.Generator,
             candidates: np.ndarray | None = None) -> list[int]:
    """``n`` rows of ``candidates`` (default: all), each the farthest (cosine) from those picked."""
    pool = np.arange(len(vectors)) if candidates is None else np.asarray(candidates, dtype=int)
    if n >= len(pool):
        return pool.tolist()
    chosen = [int(pool[rng.integers(len(pool))])]
    distance = 1 - vectors[pool] @ vectors[chosen[0]]
    while len(chosen) < n:
        nxt = int(pool[int(np.argmax(distance))])  # argmax: the first (canonical) of equals
        chosen.append(nxt)
        distance = np.minimum(distance, 1 - vectors[pool] @ vectors[nxt])
    return chosen


def pick(strategy: str, n: int, seed: int, vectors: np.ndarray,
         unsure: np.ndarray | None = None) -> list[int]:
    """Row indices of the posts to code next (``unsure`` from :func:`uncertainty`)."""
    rng = np.random.default_rng(seed)
    if strategy == "diverse":
        return farthest(vectors, n, rng)
    if strategy != "uncertain" or unsure is None:
        raise ValueError(f"pick() draws 'uncertain' or 'diverse', not {strategy!r}")
    order = np.lexsort((np.arange(len(unsure)), -np.asarray(unsure)))
    return farthest(vectors, n, rng, order[: POOL * n])


def machine_view(con: duckdb.DuckDBPyConnection, content_hash: str,
                 frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Embeddings and uncertainty of ``frame``'s posts from the stored machine coding.

    Raises:
        LookupError: no machine probabilities for this codebook version (run ``ethnoflow code``).
    """
    from flows.embed.cache import cached_keys, post_docs, vectors_for

    found = con.execute("""SELECT a.platform, a.post_id, a.code_id, a.coder, a.score, m.threshold, b.config
        FROM code_assignments a JOIN coder_models m ON m.batch_id = a.batch_id AND m.code_id = a.code_id
        JOIN coding_batches b ON b.batch_id = a.batch_id
        WHERE a.content_hash = ? AND list_contains(?, a.coder) AND m.threshold IS NOT NULL""",
                        [content_hash, list(SOURCES)]).df()
    if found.empty:
        raise LookupError("no machine probabilities for this codebook version")
    model = json.loads(found[found["coder"] == "auto:semantic"]["config"].iloc[0])["model"]
    found["rank"] = found["coder"].map(SOURCES.index)
    best = found.sort_values("rank").drop_duplicates(["platform", "post_id", "code_id"])
    keys = pd.MultiIndex.from_frame(frame[["platform", "post_id"]])
    scores, thresholds = {}, {}
    for code_id, part in best.groupby("code_id"):
        part = part.set_index(["platform", "post_id"])
        thresholds[code_id] = float(part["threshold"].iloc[0])  # one source, one batch per code
        scores[code_id] = part["score"].reindex(keys).fillna(0.0).to_numpy()
    docs = post_docs(con).select("platform, post_id, text_sha256").df().set_index(["platform", "post_id"])
    shas = docs["text_sha256"].reindex(keys).fillna("").tolist()
    have = cached_keys(con, model, sorted(set(shas)))
    known = [s for s in shas if s in have]
    rows = dict(zip(known, vectors_for(con, model, known))) if known else {}
    dim = next(iter(rows.values())).shape[0] if rows else 1
    vectors = np.stack([rows.get(s, np.zeros(dim, dtype=np.float32)) for s in shas])
    return vectors, uncertainty(scores, thresholds)
