"""The int8 ONNX MiniLM (`minilm-int8`): built once from the verified bundled model, checked on
every load, close to fp32 MiniLM, a pure function of each text, and cached apart from fp32."""

import json
import pickle
from pathlib import Path

import numpy as np
import pytest

from flows.embed.cache import embed_texts
from flows.embed.models import EmbedError, load_embedder
from flows.embed.quantized import INT8_DIR, OnnxEmbedder, mean_pool

FIXTURES = Path(__file__).resolve().parent / "fixtures"
TEXTS = (FIXTURES / "embed" / "texts.txt").read_text(encoding="utf-8").splitlines()


def test_pooling_is_the_masked_mean_made_unit_length():
    tokens = np.array([[[1.0, 0.0], [3.0, 4.0], [100.0, 100.0]]], dtype=np.float32)
    pooled = mean_pool(tokens, np.array([[1, 1, 0]]))  # the padded third token does not count
    assert np.allclose(pooled, [[2 / np.hypot(2, 2), 2 / np.hypot(2, 2)]])


def _fake_build(models_dir: Path) -> Path:
    target = models_dir / INT8_DIR
    target.mkdir(parents=True)
    (target / "model.onnx").write_bytes(b"not really onnx")
    (target / "tokenizer.json").write_text("{}")
    (target / "ethnoflow.json").write_text(json.dumps(
        {"sha256": "0" * 64, "tokenizer_sha256": "0" * 64, "max_seq_length": 256}))
    return target


def test_an_altered_int8_model_is_refused_before_loading(tmp_path):
    target = _fake_build(tmp_path)
    with pytest.raises(EmbedError, match=rf"model.onnx: sha256 is \w+, recorded 0+ .*Delete {target}"):
        load_embedder("minilm-int8", models_dir=tmp_path)


def test_the_embedder_pickles_without_its_session():  # a Dask worker reloads it
    embedder = OnnxEmbedder(Path("m"), "all-MiniLM-L6-v2-onnx-int8@12345678")
    embedder._session = object()
    copy = pickle.loads(pickle.dumps(embedder))
    assert (copy.model_id, copy._session, copy.max_seq_length) == (embedder.model_id, None, 256)


@pytest.fixture(scope="module")
def int8(tmp_path_factory):
    """Built for real once (export + quantisation: ~10 s alone, longer on a busy machine)."""
    return load_embedder("minilm-int8", models_dir=tmp_path_factory.mktemp("models"))


@pytest.mark.slow
def test_int8_vectors_are_close_to_fp32_minilm_on_a_fixed_text_set(int8):
    fp32 = load_embedder("minilm")
    quantised, reference = int8.encode(TEXTS), fp32.encode(TEXTS)
    assert quantised.shape == reference.shape == (40, 384)
    assert np.allclose(np.linalg.norm(quantised, axis=1), 1, atol=1e-5)
    cosine = (quantised * reference).sum(axis=1)
    assert cosine.mean() >= 0.99 and cosine.min() >= 0.97, (cosine.mean(), cosine.min())


@pytest.mark.slow
def test_a_texts_int8_vector_does_not_depend_on_the_others(int8):
    forward = int8.encode(TEXTS)
    assert np.array_equal(int8.encode(TEXTS[::-1])[::-1], forward)
    assert np.array_equal(int8.encode(TEXTS[5:6])[0], forward[5])


@pytest.mark.slow
def test_int8_is_loaded_again_not_rebuilt_and_cached_apart_from_fp32(int8, con):
    again = load_embedder("minilm-int8", models_dir=int8.path.parent)
    assert again.model_id == int8.model_id and int8.model_id.startswith("all-MiniLM-L6-v2-onnx-int8@")
    fp32 = load_embedder("minilm")
    pair = TEXTS[:2]
    embed_texts(con, again, pair)
    embed_texts(con, fp32, pair)
    rows = con.execute("SELECT model_id, count(*) FROM embeddings GROUP BY 1 ORDER BY 1").fetchall()
    assert rows == sorted([(fp32.model_id, 2), (int8.model_id, 2)])
    built = json.loads((int8.path / "ethnoflow.json").read_text())
    assert built["source"] == fp32.model_id and built["quantisation"]["weight_type"] == "QInt8"
