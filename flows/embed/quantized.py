"""The bundled MiniLM as an int8 ONNX model (`minilm-int8`): ~2-4x the fp32 PyTorch path on CPU.

Built once, offline, from the bundled safetensors (their sha256 checked first): the BERT
encoder is exported with ``torch.onnx.export`` and its MatMul weights are quantised to int8,
per output channel, with onnxruntime's ``quantize_dynamic`` (activations are quantised on the
fly). The word-embedding table stays fp32 (quantising its Gather costs cosine for no speed).
The folder (``<models_dir>/all-MiniLM-L6-v2-onnx-int8``) holds ``model.onnx``, the tokenizer
and ``ethnoflow.json``, which records the model's sha256 (checked on every load), the source
model, the quantisation settings and the versions that built it. The build is byte-for-byte
reproducible with the same versions, so the model id is the same on every machine that has them.

Encoding needs only onnxruntime and tokenizers (no torch): tokens as sentence-transformers makes
them (truncated at the model's 256, padded to the longest in the batch), then mean pooling over
the attention mask and L2 normalisation, as sentence-transformers' Pooling and Normalize do.
Its vectors are cached under their own model id (``all-MiniLM-L6-v2-onnx-int8@<sha8>``), never
mixed with fp32 MiniLM's.
"""

from __future__ import annotations

import json
import logging
import shutil
import tempfile
import warnings
from pathlib import Path

import numpy as np

from flows.ingest.readers import file_sha256

INT8_DIR = "all-MiniLM-L6-v2-onnx-int8"  # under models_dir
OPSET = 17
QUANTISATION = {"weight_type": "QInt8", "per_channel": True, "op_types": ["MatMul"]}
INPUTS = ("input_ids", "attention_mask", "token_type_ids")
BUILD_VERSIONS = ("torch", "transformers", "onnx", "onnxruntime")


def _max_seq_length(model_dir: Path) -> int:
    config = Path(model_dir) / "sentence_bert_config.json"
    return int(json.loads(config.read_text()).get("max_seq_length", 256)) if config.is_file() else 256


def _export_fp32(source: Path, out: Path) -> None:
    """The BERT encoder (token embeddings out) as an fp32 ONNX graph with dynamic batch and length."""
    import torch
    from transformers import AutoModel

    bert = AutoModel.from_pretrained(str(source), local_files_only=True).eval()

    class Encoder(torch.nn.Module):  # keyword arguments: transformers 5 reorders forward()'s
        def __init__(self, model):
            super().__init__()
            self.model = model

        def forward(self, input_ids, attention_mask, token_type_ids):
            return self.model(input_ids=input_ids, attention_mask=attention_mask,
                              token_type_ids=token_type_ids).last_hidden_state

    example = tuple(torch.ones(2, 8, dtype=torch.long) for _ in INPUTS)
    axes = {name: {0: "batch", 1: "tokens"} for name in (*INPUTS, "token_embeddings")}
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")  # the tracer's notes on shapes it keeps dynamic anyway
        torch.onnx.export(Encoder(bert), example, str(out), dynamo=False, opset_version=OPSET,
                          input_names=list(INPUTS), output_names=["token_embeddings"], dynamic_axes=axes)


def _versions() -> dict[str, str]:
    from importlib.metadata import version

    return {name: version(name) for name in BUILD_VERSIONS}


def build_int8(source: Path, source_id: str, target: Path) -> None:
    """Export and quantise the MiniLM folder ``source`` (weights already verified) into ``target``.

    ~10-30 s, offline; atomic: the folder appears complete or not at all.
    """
    from onnxruntime.quantization import QuantType, quantize_dynamic

    target.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=".int8-", dir=target.parent))
    try:
        _export_fp32(source, work / "fp32.onnx")
        logging.disable(logging.WARNING)  # onnxruntime's advice on pre-processing (measured: no gain here)
        try:
            quantize_dynamic(str(work / "fp32.onnx"), str(work / "model.onnx"), weight_type=QuantType.QInt8,
                             per_channel=QUANTISATION["per_channel"], op_types_to_quantize=QUANTISATION["op_types"])
        finally:
            logging.disable(logging.NOTSET)
        (work / "fp32.onnx").unlink()
        shutil.copy2(source / "tokenizer.json", work / "tokenizer.json")
        meta = {"source": source_id, "source_sha256": file_sha256(source / "model.safetensors"),
                "sha256": file_sha256(work / "model.onnx"), "tokenizer_sha256": file_sha256(work / "tokenizer.json"),
                "max_seq_length": _max_seq_length(source), "opset": OPSET, "quantisation": QUANTISATION,
                "pooling": "mean", "normalise": True, "built_with": _versions()}
        (work / "ethnoflow.json").write_text(json.dumps(meta, indent=2, sort_keys=True) + "\n")
        work.rename(target)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def built_int8(target: Path) -> tuple[dict, str | None]:
    """The built model's record, and what changed since it was built (None: nothing)."""
    meta = json.loads((target / "ethnoflow.json").read_text())
    for name, key in (("model.onnx", "sha256"), ("tokenizer.json", "tokenizer_sha256")):
        actual = file_sha256(target / name) if (target / name).is_file() else "missing"
        if actual != meta[key]:
            return meta, f"{target / name}: sha256 is {actual}, recorded {meta[key]} when it was built"
    return meta, None


def mean_pool(token_embeddings: np.ndarray, attention_mask: np.ndarray) -> np.ndarray:
    """sentence-transformers' mean pooling then Normalize: masked mean, then unit length."""
    mask = attention_mask[..., None].astype(np.float32)
    summed = (token_embeddings.astype(np.float32) * mask).sum(axis=1)
    pooled = summed / np.clip(mask.sum(axis=1), 1e-9, None)
    return pooled / np.clip(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12, None)


class OnnxEmbedder:
    """An ONNX sentence encoder with mean pooling; the session loads on first encode.

    One text per forward pass: dynamic quantisation scales activations over the whole input,
    so a text in a batch would get a vector that depends on its batch mates (cosine ~0.99
    between batch sizes 1 and 64) and on which texts happened to be new in a run. Alone, a
    text's vector is a pure function of the text, with no padding to pay for; this costs ~20%
    of the batched speed. Picklable (the session and tokenizer are dropped and reloaded), so a
    Dask worker can take it.
    """

    dim = 384

    def __init__(self, path: Path, model_id: str, max_seq_length: int = 256) -> None:
        self.path, self.model_id, self.max_seq_length = Path(path), model_id, max_seq_length
        self._session = self._tokenizer = None

    def __getstate__(self) -> dict:
        return {**self.__dict__, "_session": None, "_tokenizer": None}

    def _load(self) -> None:
        import onnxruntime as ort
        from tokenizers import Tokenizer

        tokenizer = Tokenizer.from_file(str(self.path / "tokenizer.json"))
        tokenizer.no_padding()  # the file pads to 128; one text per pass needs none
        tokenizer.enable_truncation(max_length=self.max_seq_length)  # as sentence-transformers: 256
        options = ort.SessionOptions()
        options.log_severity_level = 3  # warnings a researcher cannot act on
        self._session = ort.InferenceSession(str(self.path / "model.onnx"), options,
                                             providers=["CPUExecutionProvider"])
        self._tokenizer = tokenizer

    def _one(self, text: str) -> np.ndarray:
        encoded = self._tokenizer.encode(text)
        feed = {name: np.array([values], dtype=np.int64) for name, values in
                zip(INPUTS, (encoded.ids, encoded.attention_mask, encoded.type_ids))}
        (tokens,) = self._session.run(None, feed)
        return mean_pool(tokens, feed["attention_mask"])[0]

    def encode(self, texts: list[str]) -> np.ndarray:
        """Unit-length float32 rows, one per text, in order."""
        texts = list(texts)
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        if self._session is None:
            self._load()
        return np.stack([self._one(text) for text in texts]).astype(np.float32, copy=False)
