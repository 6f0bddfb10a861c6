"""Sending embedding batches to a Dask cluster (the study's `executor: dask`).

A `MappedEmbedder` looks like the embedder it wraps (same model id, same dimension), but its
`encode` splits the texts into chunks and hands them to a map function — in the pipeline,
a Prefect task mapped over a `prefect_dask.DaskTaskRunner`. Workers load the model once each.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

CHUNK = 512
_loaded: dict[str, object] = {}  # model id -> embedder, per worker process

EncodeMap = Callable[[object, list[list[str]]], Sequence[np.ndarray]]


class MappedEmbedder:
    """An embedder whose batches run wherever `encode_map` sends them."""

    def __init__(self, embedder, encode_map: EncodeMap, chunk: int = CHUNK):
        self.inner, self.encode_map, self.chunk = embedder, encode_map, chunk
        self.model_id = embedder.model_id

    @property
    def dim(self) -> int:
        return self.inner.dim

    def encode(self, texts: list[str]) -> np.ndarray:
        chunks = [list(texts[i:i + self.chunk]) for i in range(0, len(texts), self.chunk)]
        if not chunks:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.vstack(list(self.encode_map(self.inner, chunks))).astype(np.float32)


def encode_on_worker(embedder, texts: list[str]) -> np.ndarray:
    """Encode on a worker, reusing that worker's copy of the model across chunks."""
    model = _loaded.setdefault(embedder.model_id, embedder)
    return model.encode(texts)
