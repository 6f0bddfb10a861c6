"""Embeddings: sentence models behind one small interface, cached in DuckDB by content hash.

An :class:`Embedder` turns texts into float32, L2-normalised rows. Vectors are stored in the
``embeddings`` table keyed by (model id, sha256 of the exact text embedded), so no text is ever
embedded twice by the same model, across runs, refreshes and stages. A model id names the
weights (``all-MiniLM-L6-v2@53aa5117``): new weights, new id, never a mixed cache.

The text embedded for a post is defined once, in ``flows/topics/sql/post_docs.sql`` (see
:func:`post_docs`): the post's text, or for a repost the original's text; URLs and the leading
run of @mentions that replies carry are removed and whitespace is collapsed. It is a pure
function of the stored posts, so it is the same on every run.

The models themselves live in :mod:`flows.embed.models` (re-exported here: this module is the
interface other stages use).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass

import duckdb
import numpy as np

from flows.embed.models import Embedder, EmbedError, SentenceTransformerEmbedder
from flows.store.db import sql_text, transaction

TEXT_RULE = "post-text-v1"  # bump with any change to flows/topics/sql/post_docs.sql
CHUNK = 2048  # texts encoded (and committed to the cache) at a time; a multiple of 64

Progress = Callable[[int, int], None]  # progress(done, total)


@dataclass(frozen=True)
class EmbedCounts:
    """What `embed_posts` did: posts seen, distinct texts, how many were already cached."""

    model_id: str
    posts: int
    texts: int
    cached: int
    embedded: int
    empty: int  # posts with no text left to embed (a bare link, a deleted original)


def text_sha256(text: str) -> str:
    """The cache key of a text: sha256 of its UTF-8 bytes (DuckDB's ``sha256()`` agrees)."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()



# -- the cache ------------------------------------------------------------------------------


def register_columns(con: duckdb.DuckDBPyConnection, name: str, columns) -> None:
    """Expose columns (a dict or an Arrow table) to SQL as ``name``.

    DuckDB 2 refuses ``register`` while an earlier query's result is partly read (even after
    ``fetchone()`` of a count); a caller may have left one, so finish it first.
    """
    import pyarrow as pa

    con.execute("SELECT 1").fetchall()
    con.register(name, columns if isinstance(columns, pa.Table) else pa.table(columns))


def cached_keys(con: duckdb.DuckDBPyConnection, model_id: str, shas: list[str]) -> set[str]:
    """Which of these text hashes the cache already holds for this model."""
    if not shas:
        return set()
    register_columns(con, "_embed_keys", {"sha": shas})
    try:
        found = con.execute("""SELECT k.sha FROM _embed_keys k JOIN embeddings e
                               ON e.model_id = $m AND e.text_sha256 = k.sha""", {"m": model_id}).fetchall()
    finally:
        con.unregister("_embed_keys")
    return {sha for (sha,) in found}


def _lookup(con: duckdb.DuckDBPyConnection, model_id: str, shas: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """(positions in ``shas`` found in the cache, their vectors), in position order."""
    register_columns(con, "_embed_keys", {"i": np.arange(len(shas)), "sha": shas})
    try:
        table = con.sql("""SELECT k.i, e.vector FROM _embed_keys k JOIN embeddings e
                           ON e.model_id = $m AND e.text_sha256 = k.sha ORDER BY k.i""",
                        params={"m": model_id}).to_arrow_table()
    finally:
        con.unregister("_embed_keys")
    if table.num_rows == 0:
        return np.zeros(0, dtype=np.int64), np.zeros((0, 0), dtype=np.float32)
    flat = table.column("vector").combine_chunks().flatten().to_numpy(zero_copy_only=False)
    return table.column("i").to_numpy(), flat.astype(np.float32, copy=False).reshape(table.num_rows, -1)


def _store(con: duckdb.DuckDBPyConnection, model_id: str, shas: list[str], rows: np.ndarray) -> None:
    import pyarrow as pa

    vectors = pa.FixedSizeListArray.from_arrays(pa.array(rows.astype(np.float32).ravel()), rows.shape[1])
    register_columns(con, "_embed_new", {"sha": shas, "vector": vectors})
    try:
        with transaction(con):
            con.execute("""INSERT OR IGNORE INTO embeddings
                           SELECT $m, sha, vector::FLOAT[] FROM _embed_new""", {"m": model_id})
    finally:
        con.unregister("_embed_new")


def _encode(embedder: Embedder, texts: list[str], batch_size: int) -> np.ndarray:
    """``embedder.encode``, passing the batch size to the transformer models (static models
    look tokens up, 1,024 texts at a time, which small batches would only slow down)."""
    if isinstance(embedder, SentenceTransformerEmbedder):
        return embedder.encode(texts, batch_size=batch_size)
    return embedder.encode(texts)


def _encode_missing(con, embedder: Embedder, missing: dict[str, str], batch_size: int,
                    progress: Progress | None) -> None:
    """Encode texts longest first (least padding), committing each chunk to the cache.

    Each chunk is its own transaction: the cache is content-keyed, so any subset of it is
    valid, and an interrupted run keeps what it already paid for.
    """
    order = sorted(missing, key=lambda sha: (-len(missing[sha]), sha))
    step = max(batch_size, CHUNK - CHUNK % batch_size)
    for start in range(0, len(order), step):
        shas = order[start:start + step]
        rows = _encode(embedder, [missing[sha] for sha in shas], batch_size)
        if rows.shape != (len(shas), embedder.dim):
            raise EmbedError(f"{embedder.model_id}: encode returned shape {rows.shape}, "
                             f"expected ({len(shas)}, {embedder.dim})")
        _store(con, embedder.model_id, shas, rows)
        if progress:
            progress(min(start + step, len(order)), len(order))


def _ensure(con, embedder: Embedder, texts_by_sha: dict[str, str], batch_size: int,
            progress: Progress | None) -> int:
    """Embed whichever of these texts the cache lacks; return how many were embedded."""
    shas = list(texts_by_sha)
    have = cached_keys(con, embedder.model_id, shas)
    missing = {sha: texts_by_sha[sha] for sha in shas if sha not in have}
    if progress:
        progress(0, len(missing))
    if missing:
        _encode_missing(con, embedder, missing, batch_size, progress)
    return len(missing)


def embed_texts(con: duckdb.DuckDBPyConnection, embedder: Embedder, texts: list[str], *,
                batch_size: int = 64, progress: Progress | None = None) -> np.ndarray:
    """Vectors for ``texts``, in order, embedding only what the cache lacks.

    Args:
        con: the store (its ``embeddings`` table is the cache).
        embedder: the model; its ``model_id`` keys the cache.
        texts: exactly the texts to embed; equal texts share one cached row.
        batch_size: texts per forward pass (sentence-transformers); 2,048 texts at a time are
            encoded and committed to the cache.
        progress: called as ``progress(done, total)`` over the texts being embedded now.

    Returns:
        float32 array of shape (len(texts), embedder.dim), L2-normalised rows.
    """
    shas = [text_sha256(t) for t in texts]
    _ensure(con, embedder, dict(zip(shas, texts)), batch_size, progress)
    return vectors_for(con, embedder.model_id, shas, dim=embedder.dim)


def vectors_for(con: duckdb.DuckDBPyConnection, model_id: str, shas: list[str], *,
                dim: int | None = None) -> np.ndarray:
    """Cached vectors for these text hashes, in order.

    Raises:
        EmbedError: a hash has no cached vector for this model (embed it first).
    """
    if not shas:
        return np.zeros((0, dim or 0), dtype=np.float32)
    found, rows = _lookup(con, model_id, shas)
    if len(found) != len(shas):
        lost = shas[int(np.setdiff1d(np.arange(len(shas)), found)[0])]
        raise EmbedError(f"text {lost[:12]}... has no cached embedding for model {model_id}; "
                         "run `ethnoflow embed` with that model first")
    return rows


# -- posts ----------------------------------------------------------------------------------


def post_docs(con: duckdb.DuckDBPyConnection, where: str | None = None) -> duckdb.DuckDBPyRelation:
    """The text embedded for each post, with its hash, in canonical order (platform, post id).

    Columns: platform, post_id, author_id, kind, lang, created_at, doc, text_sha256.
    ``where`` is an SQL condition over those columns, e.g. ``"lang = 'en'"``.
    """
    query = f"SELECT * FROM ({sql_text('topics/post_docs.sql')})"
    if where:
        query += f" WHERE {where}"
    return con.sql(query + " ORDER BY platform, post_id")


def embed_posts(con: duckdb.DuckDBPyConnection, embedder: Embedder, *, where: str | None = None,
                batch_size: int = 64, progress: Progress | None = None) -> EmbedCounts:
    """Embed every post's text (see :func:`post_docs`) that the cache lacks (`ethnoflow embed`).

    Args:
        where: an SQL condition choosing posts, e.g. ``"kind <> 'repost'"``; all posts if None.
    """
    rows = post_docs(con, where).select("doc, text_sha256").fetchall()
    texts = {sha: doc for doc, sha in rows if doc}
    embedded = _ensure(con, embedder, texts, batch_size, progress)
    return EmbedCounts(model_id=embedder.model_id, posts=len(rows), texts=len(texts),
                       cached=len(texts) - embedded, embedded=embedded,
                       empty=sum(1 for doc, _ in rows if not doc))
