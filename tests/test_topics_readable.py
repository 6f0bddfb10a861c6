"""Topics a committee can read: keywords without stop words, handles, links or numbers, on the
five real tweet-chat exports of ../shared/fixtures; labels of 2-4 distinct words; the
researcher's names kept; a fit on a sample with the rest assigned in batches, whatever the order.

The fast tests cluster with the k-means stand-in over the fake embedder: the vocabulary, the
keywords, the labels and the sampling are the real code, only the clustering is swapped.
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from conftest import SHARED, split_sample

from flows.embed.models import FakeEmbedder
from flows.ingest.files import ingest
from flows.store.db import connect
from flows.topics.keywords import label, mmr, unique_labels
from flows.topics.pipeline import run_topics
from flows.topics.settings import TopicSettings, auto_topic_size
from flows.topics.store import name_topic
from flows.topics.vocabulary import doc_language, make_vocabulary, stop_words, tokens

CHATS = SHARED / "healthcare_twitter_analysis" / "files"
URL = re.compile(r"https?://\S+|www\.\S+", re.IGNORECASE)


def fit(con, tmp_path, settings=None, **kw):
    return run_topics(con, settings or TopicSettings(), embedder=FakeEmbedder(), backend="kmeans",
                      models_dir=tmp_path / "models", **kw)


@pytest.fixture(scope="module")
def chats(tmp_path_factory):
    """The five tweet-chat CSVs (Topsy, 2014; en, es, fr and more) in one store, fitted once."""
    files = sorted(CHATS.glob("Tweets_*_full.csv"))
    if len(files) != 5:
        pytest.skip(f"the five tweet-chat CSVs are not at {CHATS} (only in the project workspace)")
    tmp = tmp_path_factory.mktemp("chats")
    con = connect(tmp / "chats.duckdb")
    ingest(con, files)
    run = fit(con, tmp).run_id
    yield con, run
    con.close()


def corpus_facts(con):
    """Every handle the corpus names, the words seen only inside links, and the posts' words."""
    handles = {h.lower() for (h,) in con.execute(
        "SELECT DISTINCT handle FROM authors UNION SELECT DISTINCT value FROM entities WHERE kind = 'mention'"
    ).fetchall() if h}
    inside, outside = Counter(), Counter()
    for (text,) in con.execute("SELECT text FROM posts").fetchall():
        for link in URL.findall(text or ""):
            inside.update(re.findall(r"[a-z0-9]+", link.lower()))
        outside.update(re.findall(r"[a-z0-9]+", URL.sub(" ", text or "").lower()))
    return handles, {w for w in inside if not outside[w]}


def test_no_stop_word_handle_link_or_number_among_the_top_words(chats):
    con, run = chats
    handles, link_only = corpus_facts(con)
    posts = con.execute("""SELECT a.topic, p.text, p.lang FROM topic_assignments a
                           JOIN posts p USING (platform, post_id) WHERE a.run_id = ?""", [run]).fetchall()
    topics = con.execute("SELECT topic, label, keywords FROM topics WHERE run_id = ?", [run]).fetchall()
    assert len(topics) >= 10
    written = {w for _, t, _ in posts for w in re.findall(r"[a-z0-9_]+", re.sub(r"[@＠][\w.]+", " ", t.lower()))}
    bare = handles & written
    for topic, name, keywords in topics:
        top = keywords[:5]
        assert top, f"topic {topic} has no keywords"
        texts = [(t, lang) for k, t, lang in posts if k == topic]
        for phrase in top:
            for word in phrase.split():
                assert not word.isdigit() and word not in {"http", "https", "www", "co", "com", "rt", "amp"}
                assert word not in link_only, f"topic {topic}: '{word}' comes from a link"
                assert word not in handles - bare, f"topic {topic}: '{word}' is a handle"
                # a stop word of the language of the posts that use it
                using = Counter(doc_language(t, lang) for t, lang in texts if word in tokens(t))
                language = using.most_common(1)[0][0] if using else "en"
                assert word not in stop_words(language) | stop_words("en"), \
                    f"topic {topic}: '{word}' is a stop word ({language})"
        words = name.split(", ")
        if topic == -1:
            continue
        assert 2 <= sum(len(w.split()) for w in words) <= 4, name
        assert len({w for p in words for w in p.split()}) == sum(len(p.split()) for p in words), name


def test_labels_are_unique_and_the_chat_hashtag_in_most_posts_is_no_keyword(chats):
    con, run = chats
    import json

    settled = json.loads(con.execute("SELECT resolved FROM topic_runs WHERE run_id = ?", [run]).fetchone()[0])
    assert settled["corpus_words"] == ["celiac"]  # in 79 % of the five chats' posts; "glutenfree" in 44 %
    rows = con.execute("SELECT topic, label, keywords FROM topics WHERE run_id = ? AND topic <> -1",
                       [run]).fetchall()
    words = [frozenset(name.replace(",", " ").split()) for _, name, _ in rows]
    assert len(set(words)) == len(words), [name for _, name, _ in rows]
    assert not any("celiac" in phrase.split() for *_, keywords in rows for phrase in keywords)


@pytest.mark.parametrize(("chat", "hashtag"), [("Cholera", "cholera"), ("BleedingDisorders", "bleedingdisorders"),
                                               ("CancerChat", "cancerchat")])
def test_a_single_chat_loses_its_own_hashtag(chat, hashtag):
    path = CHATS / f"Tweets_{chat}_full.csv"
    if not path.exists():
        pytest.skip(f"{path} is not there (only in the project workspace)")
    con = connect(":memory:")
    ingest(con, [path])
    texts, tags = zip(*con.execute("SELECT text, lang FROM posts WHERE kind <> 'repost'").fetchall())
    vocabulary, languages = make_vocabulary(list(texts), tags, 2)
    assert hashtag in vocabulary.corpus_words
    assert not any(hashtag in phrase.split() for t, lang in zip(texts, languages)
                   for phrase in vocabulary.analyse(t, lang))
    kept, _ = make_vocabulary(list(texts), tags, 2, keep=[hashtag])
    assert hashtag not in kept.corpus_words


def test_the_quality_benchmark_counts_a_handle_only_when_never_written_as_a_word(chats):
    from flows.topics.quality import bare_handles, corpus_handles, unreadable

    con, _ = chats
    texts = [t for (t,) in con.execute("SELECT text FROM posts").fetchall()]
    handles, bare = corpus_handles(con), bare_handles(con, texts)
    assert {"celiac", "fda"} <= handles - bare and bare < handles  # @celiac and @fda exist, the words too
    assert unreadable([["celiac", "fda", "the", "2014"]], {"the"}, bare) == ["the", "2014"]


def test_the_chats_languages_get_their_own_stop_words(chats):
    con, run = chats
    import json

    settled = json.loads(con.execute("SELECT resolved FROM topic_runs WHERE run_id = ?", [run]).fetchone()[0])
    assert settled["main_languages"] == ["en"] and {"es", "fr", "it"} <= set(settled["languages"])
    assert settled["min_topic_size"] == auto_topic_size(settled["fitted_posts"]) and settled["min_df"] >= 2
    # outliers reduced by the per-topic rule: some move, some stay in topic -1
    assert 0 < settled["outliers_moved"] < settled["outliers_before"] and settled["outlier_thresholds"]["min"] > 0


def test_handles_links_entities_and_numbers_leave_the_text_counted():
    assert tokens("RT @drmaya: 2014 &amp; beyond http://t.co/QWv42 see www.x.org #CancerChat don’t") == \
        ["rt", "beyond", "see", "cancerchat", "don't"]


def test_a_post_language_comes_from_its_tag_else_its_words():
    assert doc_language("anything", "en-gb") == "en"
    assert doc_language("les vaccins sont pour les enfants et des adultes", None) == "fr"
    assert doc_language("che cosa non è", "und") == "it"


def test_labels_are_two_to_four_distinct_words():
    assert label(["vaccines", "vaccine", "cholera outbreak", "haiti"]) == "vaccines, cholera outbreak"
    assert label(["gluten", "gluten free", "celiac", "coeliac", "diet"]) == "gluten, celiac, coeliac"
    assert label(["only"]) == "only"
    assert label([]) == ""


def test_no_two_topics_share_a_label():
    found = unique_labels({0: ["glutenfree", "recipe", "bread"], 1: ["glutenfree", "recipe", "pizza"],
                           2: ["recipe", "glutenfree", "pizza", "cafe"], 3: ["bread", "recipe", "glutenfree"],
                           4: ["glutenfree", "recipe"], 5: ["gluten free", "recipe pizza", "bake"],
                           6: ["gluten free", "recipe pizza", "oven"]})
    assert found == {0: "glutenfree, recipe, bread", 1: "glutenfree, recipe, pizza",
                     2: "recipe, glutenfree, pizza, cafe",  # the next keyword added
                     3: "bread, recipe, glutenfree (3)",    # no keyword left
                     4: "glutenfree, recipe",               # other words than topic 0's
                     5: "gluten free, recipe pizza", 6: "gluten free, oven"}  # the last phrase swapped
    assert unique_labels({}) == {} and unique_labels({7: []}) == {7: ""}


def test_an_outlier_moves_only_as_close_as_the_topic_own_posts_by_default():
    from flows.topics.backend import move_outliers

    angles = np.array([0.0, 0.1, -0.1, 0.05, 3.0, 3.1, 2.9, 0.35, 1.6])  # two topics, a near and a far outlier
    x = np.stack([np.cos(angles), np.sin(angles)], axis=1)
    labels = np.array([0, 0, 0, 0, 1, 1, 1, -1, -1])
    moved, nearest, needed = move_outliers(x, labels, None)
    assert moved.tolist()[-2:] == [-1, -1] and 0.99 < needed[0] < 1.0  # 0.35 rad is farther than topic 0's posts
    moved, nearest, needed = move_outliers(x, labels, 0.9)
    assert moved.tolist()[-2:] == [0, -1] and needed == {0: 0.9, 1: 0.9}
    assert nearest[7] == pytest.approx(np.cos(0.35 - np.arctan2(np.sin(angles[:4]).mean(), np.cos(angles[:4]).mean())))
    assert move_outliers(x, labels, 0.0)[0].tolist()[-2:] == [0, 1]


def test_mmr_prefers_relevant_words_unlike_those_picked():
    centre = np.array([1.0, 0.0])
    vectors = np.array([[1.0, 0.0], [0.999, 0.045], [0.8, 0.6]])
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    assert mmr(centre, vectors, 2, diversity=0.7) == [0, 2]
    assert mmr(centre, vectors, 2, diversity=0.0) == [0, 1]
    # a phrase repeating a word or stem of one picked is not picked, however relevant
    assert mmr(centre, vectors, 3, diversity=0.0, phrases=["cholera haiti", "haiti cholera", "outbreak"]) == [0, 2]
    assert mmr(centre, vectors, 3, diversity=0.0, phrases=["vaccines", "vaccine", "oral"]) == [0, 2]


def test_keyword_candidates_are_phrases_many_of_the_topic_posts_use():
    import scipy.sparse as sp

    from flows.topics.keywords import class_tfidf

    words = np.array(["also", "common", "rare", "shared"], dtype=object)
    labels = np.array([0] * 10 + [1] * 10)
    counts = np.zeros((20, 4))
    counts[:5, 0] = 1       # "also": 5 of topic 0's posts
    counts[:6, 1] = 1       # "common": 6 of them
    counts[0, 2] = 9        # "rare": one post, many times (the best c-TF-IDF score)
    counts[:, 3] = 1        # "shared": every post
    counts = sp.csr_matrix(counts)
    assert [w for w, _ in class_tfidf(counts, labels, words, 4)[0]][0] == "rare"
    held = [w for w, _ in class_tfidf(counts, labels, words, 4, support=(0.05, 5))[0]]
    assert set(held) == {"also", "common", "shared"}
    topped = [w for w, _ in class_tfidf(counts, labels, words, 4, support=(0.05, 6))[0]]
    assert set(topped[:2]) == {"common", "shared"} and set(topped[2:]) == {"also", "rare"}  # fewer than 3 held


@pytest.fixture(scope="module")
def sample_parts(tmp_path_factory) -> list[Path]:
    return split_sample(tmp_path_factory.mktemp("sample"), tweets=900)


def test_a_fit_on_a_sample_assigns_the_rest_in_batches_whatever_the_order(tmp_path, sample_parts):
    from flows.topics import refresh

    settings = TopicSettings(fit_sample=300)
    stores = []
    for name, parts in (("a", sample_parts), ("b", sample_parts[::-1])):
        con = connect(tmp_path / f"{name}.duckdb")
        for part in parts:
            ingest(con, [part])
        stores.append(con)
    old = refresh.BATCH
    try:
        refresh.BATCH = 100  # several batches
        first, second = (fit(con, tmp_path, settings) for con in stores)
    finally:
        refresh.BATCH = old
    assert first.run_id == second.run_id and 300 <= first.fit.docs < first.assigned
    dumps = [con.execute("SELECT * FROM topic_assignments ORDER BY platform, post_id").fetchall() for con in stores]
    assert dumps[0] == dumps[1]
    methods = Counter(m for *_, m, _ in dumps[0])
    assert methods["refresh"] == first.assigned - first.fit.docs


def test_a_researchers_name_outlives_refreshes_and_follows_a_refit(tmp_path, sample_parts, cli):
    con = connect(tmp_path / "names.duckdb")
    ingest(con, sample_parts[:2])
    run = fit(con, tmp_path).run_id
    name_topic(con, run, 0, "  Wellness and   burnout ")
    ingest(con, [sample_parts[2]])
    assert fit(con, tmp_path).action == "refresh"
    from flows.topics.views import show

    shown = {t["topic"]: t for t in show(con)["topics"]}
    assert shown[0]["label"] == "Wellness and burnout" and shown[0]["named"]
    refit = fit(con, tmp_path, TopicSettings(seed=7), refit=True)
    carried = con.execute("SELECT topic, name, origin, from_topic FROM topic_names WHERE run_id = ?",
                          [refit.run_id]).fetchall()
    biggest = max(refit.mapping, key=lambda m: m["posts"] if m["previous_topic"] == 0 else -1)
    if biggest["share"] >= 0.5:
        assert carried and carried[0][1:] == ("Wellness and burnout", "carried", 0)
    with pytest.raises(Exception, match="no topic 999"):
        name_topic(con, run, 999, "x")
    con.close()


def test_topics_label_command(tmp_path, sample_parts, cli, monkeypatch):
    db = tmp_path / "cli.duckdb"
    con = connect(db)
    ingest(con, sample_parts[:1])
    fit(con, tmp_path)
    con.close()
    assert "is now named 'Night shifts'" in cli("topics", "label", "1", "Night shifts", "--db", db).output
    assert "Night shifts" in cli("topics", "show", "--db", db, "--show-handles").output
    assert "keyword label again" in cli("topics", "label", "1", "", "--db", db).output
