"""Embeddings: the text a post is embedded as, the content-hash cache, and the models behind it.

The fake embedder serves the fast tests; tests marked slow load the bundled MiniLM model and
distil the static model for real.
"""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
from conftest import FIXTURES

import flows.embed.models
from flows.embed.cache import embed_posts, embed_texts, post_docs, text_sha256
from flows.embed.models import MINILM_SHA256, STATIC_DIR, EmbedError, FakeEmbedder, load_embedder
from flows.ingest.readers import file_sha256
from flows.store.db import connect


class CountingEmbedder(FakeEmbedder):
    """The fake embedder, counting every text it was asked to encode."""

    def __init__(self, model_id: str = FakeEmbedder.model_id) -> None:
        super().__init__()
        self.model_id, self.seen = model_id, []

    def encode(self, texts):
        self.seen.extend(texts)
        return super().encode(texts)


def test_fake_embedder_is_deterministic_normalised_and_meaningful():
    rows = FakeEmbedder().encode(["journal club tonight", "journal club tomorrow", "snow day!!"])
    assert rows.dtype == np.float32 and rows.shape == (3, 64)
    assert np.allclose(np.linalg.norm(rows, axis=1), 1)
    assert rows[0] @ rows[1] > rows[0] @ rows[2]
    assert np.array_equal(rows, FakeEmbedder().encode(["journal club tonight", "journal club tomorrow", "snow day!!"]))


def test_each_text_is_embedded_once_and_rows_follow_the_input(con):
    embedder = CountingEmbedder()
    texts = ["b", "a", "b", "c"]
    rows = embed_texts(con, embedder, texts)
    assert sorted(embedder.seen) == ["a", "b", "c"]
    assert np.array_equal(rows, FakeEmbedder().encode(texts))
    embed_texts(con, embedder, ["c", "a", "d"])
    assert sorted(embedder.seen) == ["a", "b", "c", "d"]


def test_the_cache_outlives_the_connection_and_is_per_model(tmp_path):
    con = connect(tmp_path / "s.duckdb")
    embed_texts(con, CountingEmbedder(), ["journal club"])
    con.close()
    con = connect(tmp_path / "s.duckdb")
    again, other = CountingEmbedder(), CountingEmbedder("other-model@00000000")
    embed_texts(con, again, ["journal club"])
    embed_texts(con, other, ["journal club"])
    assert again.seen == [] and other.seen == ["journal club"]


def test_no_texts_gives_an_empty_matrix(con):
    assert embed_texts(con, FakeEmbedder(), []).shape == (0, 64)


def test_a_post_is_embedded_as_its_text_without_links_and_reply_mentions(con, ingest_files):
    ingest_files(FIXTURES / "topics" / "post_texts.jsonl")
    docs = dict(post_docs(con).select("post_id, doc").fetchall())
    assert docs == {
        "1300000000000000001": "New #MedEd paper on feedback by @DrBlake_MD",
        "1300000000000000002": "Thank you! Keep asking for feedback",        # reply mentions, newline, link
        "1300000000000000003": "New #MedEd paper on feedback by @DrBlake_MD",  # repost: the stored original
        "1300000000000000004": "Residents, what do you wish students knew?",  # original not stored: RT cut
        "1300000000000000005": "",                                           # nothing but a link
        "1300000000000000006": "Café rounds ☕ with the team",
    }


def test_the_sql_text_hash_is_the_python_one(con, ingest_files):
    ingest_files(FIXTURES / "topics" / "post_texts.jsonl")
    assert all(sha == text_sha256(doc) for doc, sha in post_docs(con).select("doc, text_sha256").fetchall())


def test_embed_posts_counts_and_skips_what_is_cached(con, ingest_files):
    ingest_files(FIXTURES / "topics" / "post_texts.jsonl")
    first = embed_posts(con, FakeEmbedder())
    assert (first.posts, first.texts, first.embedded, first.cached, first.empty) == (6, 4, 4, 0, 1)
    again = embed_posts(con, FakeEmbedder(), where="lang = 'en'")
    assert (again.posts, again.embedded, again.cached) == (5, 0, 3)


def test_an_unknown_model_is_never_downloaded(tmp_path):
    with pytest.raises(EmbedError, match="never downloads"):
        load_embedder("no-such-org/no-such-model-xyz", models_dir=tmp_path)
    with pytest.raises(EmbedError, match="not a model folder"):
        load_embedder(str(tmp_path / "missing"), models_dir=tmp_path)


def test_the_bundled_weights_pass_their_check():
    embedder = load_embedder("minilm")
    assert embedder.model_id == f"all-MiniLM-L6-v2@{MINILM_SHA256[:8]}" and embedder.dim == 384


def test_tampered_weights_are_refused_before_loading(tmp_path, monkeypatch):
    copy = tmp_path / "minilm"
    shutil.copytree(flows.embed.models.bundled_model_dir(), copy)
    weights = copy / "model.safetensors"
    data = bytearray(weights.read_bytes())
    data[-1] ^= 0xFF
    weights.write_bytes(bytes(data))
    monkeypatch.setattr(flows.embed.models, "bundled_model_dir", lambda: copy)
    monkeypatch.setattr(flows.embed.models.SentenceTransformerEmbedder, "model",
                        property(lambda self: pytest.fail("tampered weights were loaded")))
    with pytest.raises(EmbedError, match=f"sha256 is {file_sha256(weights)}, expected {MINILM_SHA256}"):
        load_embedder("minilm")


def test_a_local_folder_gets_an_id_from_its_weights(tmp_path):
    copy = tmp_path / "my-model"
    shutil.copytree(flows.embed.models.bundled_model_dir(), copy)
    assert load_embedder(str(copy)).model_id == f"my-model@{MINILM_SHA256[:8]}"


def _tiny_static_model(models_dir):
    """A model2vec model with random vectors over MiniLM's vocabulary: loads like the real one."""
    from model2vec import StaticModel
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(flows.embed.models.bundled_model_dir() / "tokenizer.json"))
    vectors = np.random.default_rng(0).standard_normal((tokenizer.get_vocab_size(), 8)).astype(np.float32)
    target = models_dir / STATIC_DIR
    StaticModel(vectors, tokenizer).save_pretrained(str(target))
    meta = {"source": "test", "pca_dims": 8, "sha256": file_sha256(target / "model.safetensors")}
    (target / "ethnoflow.json").write_text(json.dumps(meta))
    return target


def test_a_built_static_model_is_reused_and_checked(tmp_path, monkeypatch):
    target = _tiny_static_model(tmp_path)
    monkeypatch.setattr(flows.embed.models, "_distil_static", lambda target: pytest.fail("distilled again"))
    embedder = load_embedder("static", models_dir=tmp_path)
    rows = embedder.encode(["journal club tonight", "snow day"])
    assert embedder.model_id.startswith("static-all-MiniLM-L6-v2-pca8@") and rows.shape == (2, 8)
    assert rows.dtype == np.float32 and np.allclose(np.linalg.norm(rows, axis=1), 1)
    (target / "model.safetensors").write_bytes(b"changed")
    with pytest.raises(EmbedError, match="delete the folder"):
        load_embedder("static", models_dir=tmp_path)


@pytest.mark.slow
def test_the_bundled_model_embeds_a_small_corpus(con, ingest_files):
    ingest_files(FIXTURES / "topics" / "post_texts.jsonl")
    embedder = load_embedder("minilm")
    counts = embed_posts(con, embedder)
    assert (counts.texts, counts.embedded) == (4, 4)
    rows = embed_texts(con, embedder, ["Journal club tonight on the new sepsis trial",
                                       "Tonight's journal club covers a sepsis study", "My puppy ate my charger"])
    assert rows.shape == (3, 384) and np.allclose(np.linalg.norm(rows, axis=1), 1, atol=1e-5)
    assert rows[0] @ rows[1] > 0.6 > rows[0] @ rows[2]
    direct = embedder.encode(["Journal club tonight on the new sepsis trial"])
    assert np.allclose(direct[0], rows[0], atol=1e-6)
    assert embed_posts(con, embedder).embedded == 0


def test_the_static_model_is_built_once_from_the_verified_bundled_model(tmp_path, monkeypatch):
    """The build around model2vec's distill (run for real by benchmarks/bench_embed.py, ~1 min)."""
    import model2vec.distill

    calls = []

    def distill(model_name, pca_dims, device):
        calls.append((model_name, pca_dims))
        from model2vec import StaticModel

        return StaticModel.from_pretrained(str(_tiny_static_model(tmp_path / "tiny")), force_download=False)

    monkeypatch.setattr(model2vec.distill, "distill", distill)
    first = load_embedder("static", models_dir=tmp_path / "models")
    second = load_embedder("static", models_dir=tmp_path / "models")
    assert calls == [(str(flows.embed.models.bundled_model_dir()), 256)]
    assert first.model_id == second.model_id and first.model_id.startswith("static-all-MiniLM-L6-v2-pca256@")
    assert [p.name for p in (tmp_path / "models").iterdir()] == [STATIC_DIR]  # no half-built folder left


def test_embedding_works_after_a_partly_read_query(con):
    con.execute("SELECT count(*) FROM posts").fetchone()  # DuckDB 2 leaves this result open
    assert embed_texts(con, FakeEmbedder(), ["journal club"]).shape == (1, 64)
