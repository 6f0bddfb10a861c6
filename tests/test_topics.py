"""Topic runs: identical fits whatever the ingest order, refresh without drift, refits, reading runs.

Fast tests use the fake embedder and the k-means stand-in backend (same pipeline, only the
clustering swapped); tests marked slow fit real BERTopic and embed with the bundled model.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from conftest import FIXTURES, split_sample

from flows.coding.codebook import leaf_codes
from flows.embed.models import FakeEmbedder
from flows.ingest.files import ingest
from flows.store.db import connect
from flows.topics.corpus import select_docs
from flows.topics.guide import make_guide, topic_codebook
from flows.topics.pipeline import run_topics
from flows.topics.refresh import assign
from flows.topics.settings import TopicError, TopicSettings
from flows.topics.views import by_class, over_time, show

TABLES = {"topics": "run_id, topic", "topic_assignments": "run_id, platform, post_id",
          "topic_representatives": "run_id, topic, rank"}


class CountingEmbedder(FakeEmbedder):
    """The fake embedder, remembering every text it was asked to encode."""

    def __init__(self) -> None:
        super().__init__()
        self.seen: list[str] = []

    def encode(self, texts):
        self.seen.extend(texts)
        return super().encode(texts)


@pytest.fixture(scope="module")
def corpus_parts(tmp_path_factory) -> list[Path]:
    """The 600-tweet sample corpus split round-robin into three twarc2 files."""
    return split_sample(tmp_path_factory.mktemp("sample"), tweets=600)


def store_with(tmp_path: Path, name: str, files: list[Path]):
    con = connect(tmp_path / f"{name}.duckdb")
    for f in files:  # one file at a time: the order is the point
        ingest(con, [f])
    return con


def dump(con, tmp_path: Path, name: str) -> dict[str, bytes]:
    """The topic tables as CSV bytes, rows in key order."""
    out = {}
    for table, order in TABLES.items():
        path = tmp_path / f"{name}-{table}.csv"
        con.execute(f"COPY (SELECT * FROM {table} ORDER BY {order}) TO '{path}' (HEADER)")
        out[table] = path.read_bytes()
    return out


def fit(con, tmp_path, settings=None, **kw):
    return run_topics(con, settings or TopicSettings(), embedder=kw.pop("embedder", FakeEmbedder()),
                      backend=kw.pop("backend", "kmeans"), models_dir=tmp_path / "models", **kw)


def test_settings_reject_unknown_keys_and_contradictions():
    with pytest.raises(ValueError, match="min_topic_sise"):
        TopicSettings.model_validate({"min_topic_sise": 5})
    with pytest.raises(ValueError, match="swap them"):
        TopicSettings(since="2020-02-01", until="2020-01-01")
    with pytest.raises(ValueError, match="needs a codebook"):
        TopicSettings(guidance="zeroshot")


def test_default_selection_leaves_out_reposts_and_empty_texts(con):
    ingest(con, [FIXTURES / "topics" / "post_texts.jsonl"])
    assert select_docs(con, TopicSettings()).post_ids == [
        "1300000000000000001", "1300000000000000002", "1300000000000000006"]


def test_selection_by_language_and_date_window(con):
    ingest(con, [FIXTURES / "topics" / "post_texts.jsonl"])
    assert select_docs(con, TopicSettings(languages=["fr"])).texts == ["Café rounds ☕ with the team"]
    window = TopicSettings(since="2020-09-02", until="2020-09-15", kinds=["original", "repost"])
    assert select_docs(con, window).post_ids == ["1300000000000000006"]


def test_same_fit_whatever_the_ingest_order(tmp_path, corpus_parts):
    a = store_with(tmp_path, "a", corpus_parts)
    b = store_with(tmp_path, "b", corpus_parts[::-1])
    assert fit(a, tmp_path).run_id == fit(b, tmp_path).run_id
    assert dump(a, tmp_path, "a") == dump(b, tmp_path, "b")


def test_refitting_the_same_posts_rewrites_the_same_rows(tmp_path, corpus_parts):
    con = store_with(tmp_path, "a", corpus_parts)
    first = fit(con, tmp_path).run_id
    before = dump(con, tmp_path, "before")
    assert fit(con, tmp_path, refit=True).run_id == first
    assert dump(con, tmp_path, "after") == before
    assert con.execute("SELECT count(*) FROM topic_runs").fetchone()[0] == 1


def test_refresh_embeds_only_new_posts_and_changes_no_assignment(tmp_path, corpus_parts):
    con = store_with(tmp_path, "a", corpus_parts[:2])
    run = fit(con, tmp_path).run_id
    before = con.execute("SELECT * FROM topic_assignments ORDER BY ALL").fetchall()
    cached = {r[0] for r in con.execute("SELECT text_sha256 FROM embeddings").fetchall()}
    ingest(con, [corpus_parts[2]])
    embedder = CountingEmbedder()
    report = run_topics(con, embedder=embedder)
    assert (report.action, report.run_id) == ("refresh", run) and report.assigned > 0
    new = select_docs(con, TopicSettings(), unassigned_in=None)
    assert embedder.seen and len(embedder.seen) == len(set(embedder.seen))
    from flows.embed.cache import text_sha256
    assert not {text_sha256(t) for t in embedder.seen} & cached
    after = con.execute("SELECT * FROM topic_assignments WHERE method <> 'refresh' ORDER BY ALL").fetchall()
    assert after == before
    assert con.execute("SELECT count(*) FROM topic_assignments").fetchone()[0] == len(new)
    assert run_topics(con, embedder=embedder).assigned == 0


def test_refresh_gives_a_post_the_same_topic_in_any_batch():
    rng = np.random.default_rng(7)
    reference = rng.standard_normal((200, 16)).astype(np.float32)
    reference /= np.linalg.norm(reference, axis=1, keepdims=True)
    labels = rng.integers(-1, 5, 200)
    queries = reference[:30] + 0.3 * rng.standard_normal((30, 16)).astype(np.float32)
    shas = [f"q{i}" for i in range(30)]
    together, _ = assign(queries, shas, reference, [f"r{i}" for i in range(200)], labels, 15)
    alone = [assign(queries[i:i + 1], shas[i:i + 1], reference, [f"r{i}" for i in range(200)], labels, 15)[0][0]
             for i in range(30)]
    assert together.tolist() == alone


def test_a_fitted_text_gets_its_own_topic_back():
    reference = np.eye(4, dtype=np.float32)
    topics, shares = assign(reference[:2], ["a", "b"], reference, ["a", "b", "c", "d"], np.array([3, -1, 0, 0]), 3)
    assert topics.tolist() == [3, -1] and shares.tolist() == [1.0, 1.0]


def test_the_stored_run_gives_every_fitted_post_its_own_topic_back(tmp_path, corpus_parts):
    from flows.embed.cache import vectors_for
    from flows.topics.store import assignments

    con = store_with(tmp_path, "a", corpus_parts)
    run = fit(con, tmp_path).run_id
    _, _, labels, shas = assignments(con, run)  # everything the refresh rule needs, read back
    vectors = vectors_for(con, FakeEmbedder.model_id, shas)
    assert assign(vectors, shas, vectors, shas, labels, 15)[0].tolist() == labels.tolist()


def test_refit_is_a_new_run_with_a_mapping_from_the_old(tmp_path, corpus_parts):
    con = store_with(tmp_path, "a", corpus_parts[:2])
    old = fit(con, tmp_path).run_id
    ingest(con, [corpus_parts[2]])
    report = fit(con, tmp_path, refit=True)
    assert report.action == "fit" and report.run_id != old and report.previous_run_id == old
    old_topics = {r[0] for r in con.execute("SELECT topic FROM topics WHERE run_id = ?", [old]).fetchall()}
    assert {m["previous_topic"] for m in report.mapping} == old_topics
    assert all(0 < m["share"] <= 1 for m in report.mapping)
    assert show(con)["run"] == report.run_id and show(con, old)["run"] == old


def test_other_settings_need_an_explicit_refit(tmp_path, corpus_parts):
    con = store_with(tmp_path, "a", corpus_parts)
    fit(con, tmp_path)
    with pytest.raises(TopicError, match="min_topic_size None -> 5.*--refit"):
        fit(con, tmp_path, TopicSettings(min_topic_size=5))


def test_show_is_the_stable_json_document(tmp_path, corpus_parts):
    con = store_with(tmp_path, "a", corpus_parts)
    fit(con, tmp_path, TopicSettings(nr_docs=3))
    shown = json.loads(json.dumps(show(con)))
    assert {"run", "topics", "assignments"} <= set(shown)
    assert all({"topic", "label", "size", "keywords"} <= set(t) for t in shown["topics"])
    assert sum(t["size"] for t in shown["topics"]) == len(shown["assignments"])
    for t in shown["topics"]:
        texts = [r["text"] for r in t["representatives"]]
        assert len(texts) == len(set(texts)) <= 3 and (t["topic"] == -1) == (not texts)
        assert [r["similarity"] for r in t["representatives"]] == sorted(
            (r["similarity"] for r in t["representatives"]), reverse=True)


def test_reduce_outliers_moves_outliers_to_topics(tmp_path, corpus_parts):
    con = store_with(tmp_path, "a", corpus_parts)
    report = fit(con, tmp_path, TopicSettings(reduce_outliers="embeddings", outlier_threshold=0.0))
    assert report.fit.cluster_outlier_share > 0 and report.fit.outlier_share == 0
    methods = dict(con.execute("SELECT method, count(*) FROM topic_assignments GROUP BY method").fetchall())
    assert methods["reduced"] == round(report.fit.cluster_outlier_share * report.fit.docs)


def test_topics_over_time_and_per_role(tmp_path, corpus_parts):
    con = store_with(tmp_path, "a", corpus_parts)
    run = fit(con, tmp_path).run_id
    months = over_time(con)
    assert {m["month"] for m in months} >= {"2014-09", "2015-04"}
    per_month = {}
    for m in months:
        per_month[m["month"]] = per_month.get(m["month"], 0) + m["share"]
    assert all(abs(v - 1) < 1e-4 for v in per_month.values())
    con.execute("""INSERT INTO author_roles (platform, author_id, handle, role, method, evidence, basis_sha256)
                   SELECT DISTINCT platform, author_id, author_handle,
                          CASE WHEN author_handle < 'm' THEN 'student' ELSE 'faculty' END, 'rule', '[]', ''
                   FROM posts WHERE author_id IS NOT NULL""")
    rows = by_class(con, "role", run)
    assert {r["class"] for r in rows} == {"student", "faculty"}
    assert sum(r["posts"] for r in rows) == show(con)["fitted_posts"]


def test_per_class_is_skipped_when_the_class_is_absent(tmp_path, corpus_parts):
    con = store_with(tmp_path, "a", corpus_parts)
    fit(con, tmp_path)
    assert by_class(con, "code") == []  # the table exists but nobody has coded yet
    con.execute("DROP VIEW code_values")
    assert by_class(con, "code") is None


def test_guides_from_a_codebook():
    codebook = topic_codebook("chretien2015")
    guided = make_guide(codebook, TopicSettings(codebook="chretien2015", guidance="guided"))
    assert guided.code_ids[0] == "information" and "tweetorial" in guided.seed_words[0]
    zeroshot = make_guide(codebook, TopicSettings(codebook="chretien2015", guidance="zeroshot"))
    assert len(zeroshot.descriptions) == 7 and zeroshot.descriptions[0].startswith("Access to information: ")
    with pytest.raises(TopicError, match="no codebook with id 'no_such_codebook'; known: .*chretien2015"):
        topic_codebook("no_such_codebook")


def test_nothing_to_model_is_a_clear_error(tmp_path):
    con = connect(tmp_path / "empty.duckdb")
    with pytest.raises(TopicError, match="no posts to model"):
        fit(con, tmp_path)
    assert con.execute("SELECT count(*) FROM topic_runs").fetchone()[0] == 0


def test_cli_fits_refreshes_and_shows(cli, monkeypatch, corpus_parts, tmp_path):
    import flows.embed.models
    import flows.topics.pipeline

    for module in (flows.embed.models, flows.topics.pipeline):
        monkeypatch.setattr(module, "load_embedder", lambda name, models_dir: FakeEmbedder())
    cli("ingest", *corpus_parts[:2])
    cli("embed", "--json")
    fitted = json.loads(cli("topics", "--backend", "kmeans", "--nr-docs", "2", "--json").output)
    cli("ingest", corpus_parts[2])
    refreshed = json.loads(cli("topics", "--json").output)
    assert fitted["action"] == "fit" and refreshed == dict(fitted, action="refresh",
                                                           assigned_now=refreshed["assigned_now"])
    shown = json.loads(cli("topics", "show", "--json").output)
    assert shown["run"] == fitted["run"] and len(shown["assignments"]) > fitted["assigned_now"]
    result = cli("topics", "--min-topic-size", "5", ok=False)
    assert result.exit_code == 2 and "--refit" in result.output
    result = cli("topics", "--kinds", "retweet", ok=False)
    assert result.exit_code == 2 and "kinds.0" in result.output
    assert "mededchat" in cli("topics", "show").output


# -- real BERTopic ---------------------------------------------------------------------------


@pytest.mark.slow
def test_bertopic_fit_is_byte_identical_across_ingest_orders_and_saved(duckdb_default_threads, tmp_path,
                                                                       corpus_parts):
    from bertopic import BERTopic

    a = store_with(tmp_path, "a", corpus_parts)
    b = store_with(tmp_path, "b", corpus_parts[::-1])
    first, second = fit(a, tmp_path, backend="bertopic"), fit(b, tmp_path / "b", backend="bertopic")
    assert first.run_id == second.run_id and first.fit.topics >= 3
    assert dump(a, tmp_path, "a") == dump(b, tmp_path, "b")
    from flows.topics.bertopic_backend import BERTopicBackend  # spectral init is not reproducible
    assert BERTopicBackend()._model(100, TopicSettings(), FakeEmbedder(), None)[0].umap_model.init == "pca"
    loaded = BERTopic.load(first.fit.model_path)
    stored = dict(a.execute("SELECT topic, keywords FROM topics").fetchall())
    assert {t: [w for w, _ in words if w] for t, words in loaded.get_topics().items()} == stored


@pytest.mark.slow
def test_bundled_model_topics_beside_a_codebook_then_refresh_and_refit(tmp_path, corpus_parts):
    from flows.embed.models import load_embedder

    con = store_with(tmp_path, "a", corpus_parts[:2])
    embedder = load_embedder("minilm")
    zeroshot = TopicSettings(codebook="chretien2015", guidance="zeroshot", reduce_outliers="embeddings",
                             outlier_threshold=0.0)
    first = fit(con, tmp_path, zeroshot, embedder=embedder, backend="bertopic")
    topics = con.execute("SELECT origin, label, code_id FROM topics WHERE origin = 'zeroshot'").fetchall()
    labels = {c.id: c.label for c in leaf_codes(topic_codebook("chretien2015"))}
    assert topics and all(label == labels[code] for _, label, code in topics)
    assert first.fit.outlier_share == 0 and first.fit.refresh_agreement > 0.5
    fitted = con.execute("SELECT * FROM topic_assignments ORDER BY ALL").fetchall()
    ingest(con, [corpus_parts[2]])
    refreshed = run_topics(con, embedder=embedder)
    assert refreshed.action == "refresh" and refreshed.assigned > 0
    assert con.execute("SELECT * FROM topic_assignments WHERE method <> 'refresh' ORDER BY ALL").fetchall() == fitted
    guided = zeroshot.model_copy(update={"guidance": "guided", "representation": "keybert"})
    refit = fit(con, tmp_path, guided, embedder=embedder, backend="bertopic", refit=True)
    assert refit.previous_run_id == first.run_id and refit.mapping
