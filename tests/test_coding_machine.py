"""Machine coders: rule matching, incremental re-coding, codebook versions, the auto combination."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import FIXTURES

from flows.coding.codebook import assignable_codes, load_codebook
from flows.coding.machine import choose, code_corpus, combine
from flows.coding.rules import RulesCoder
from flows.embed.models import FakeEmbedder

TINY = FIXTURES / "codebooks" / "tiny.yaml"
PAGE = FIXTURES / "ingest" / "cross" / "page.jsonl"


@pytest.fixture
def store(con, ingest_files):
    ingest_files(PAGE)
    return con


def _values(con, coder="auto"):
    return con.execute("SELECT post_id, code, value FROM code_values WHERE coder = ? "
                       "ORDER BY post_id, code", [coder]).fetchall()


def test_rules_coder_matches_whole_words_and_counts_rules():
    codebook = load_codebook(TINY)
    coder = RulesCoder(codebook, assignable_codes(codebook))
    out = coder.score(["Any advice? #helloworld", "anyadvice", "hello there", "Hello? anyone"])
    assert out["advice"] == ([1, 0, 0, 0], [1.0, 0.0, 0.0, 0.0])
    assert out["greeting"][0] == [1, 0, 1, 0]  # the hashtag ignores case; the pattern wants no '?'
    assert out["thanks"] == ([0, 0, 0, 0], [0.0, 0.0, 0.0, 0.0])


def test_each_machine_coder_is_stored_under_its_own_name(store):
    result = code_corpus(store, load_codebook(TINY), embedder=FakeEmbedder())
    assert result["coded"] == 2 and result["coders"] == ["auto", "auto:rules", "auto:semantic"]
    coders = store.execute("SELECT coder, count(*), count(score) FROM code_values GROUP BY coder "
                           "ORDER BY coder").fetchall()
    assert coders == [("auto", 6, 6), ("auto:rules", 6, 6), ("auto:semantic", 6, 6)]
    assert result["auto"] == {"advice": "rules", "thanks": "rules+semantic", "greeting": "rules"}


def test_rerun_codes_only_new_or_changed_posts(store, ingest_files):
    codebook = load_codebook(TINY)
    assert code_corpus(store, codebook, embedder=FakeEmbedder())["coded"] == 2
    assert code_corpus(store, codebook, embedder=FakeEmbedder())["coded"] == 0
    store.execute("UPDATE posts SET text = 'Hello, MedTwitter!' WHERE post_id = '1300000000000000001'")
    assert code_corpus(store, codebook, embedder=FakeEmbedder())["coded"] == 1
    assert ("1300000000000000001", "greeting", 1) in _values(store)
    ingest_files(FIXTURES / "ingest" / "twarc2" / "html_entities.jsonl")
    new = store.execute("SELECT count(*) FROM posts WHERE kind <> 'repost'").fetchall()[0][0] - 2
    assert code_corpus(store, codebook, embedder=FakeEmbedder())["coded"] == new > 0


def test_a_new_embedding_model_recodes_everything_with_it(store):
    codebook = load_codebook(TINY)
    code_corpus(store, codebook, embedder=FakeEmbedder())
    other = FakeEmbedder(dim=32)
    other.model_id = "fake-ngram-v1-dim32"
    assert code_corpus(store, codebook, embedder=other)["coded"] == 2
    assert code_corpus(store, codebook, embedder=None)["coded"] == 2  # rules only: semantic dropped
    assert {c for _, _, c in store.execute("SELECT DISTINCT 1, 1, coder FROM code_values").fetchall()} \
        == {"auto", "auto:rules"}


def test_editing_a_codebook_makes_a_new_version_and_old_codes_stay(store, tmp_path):
    old = load_codebook(TINY)
    code_corpus(store, old, embedder=None)
    edited = tmp_path / "tiny.yaml"
    edited.write_text(TINY.read_text(encoding="utf-8").replace("keywords: [any advice]",
                                                               "keywords: [any advice, feedback]"))
    new = load_codebook(edited)
    assert new.content_hash != old.content_hash
    assert code_corpus(store, new, embedder=None)["coded"] == 2
    by_version = dict(store.execute("SELECT content_hash, count(*) FROM code_assignments "
                                    "GROUP BY content_hash").fetchall())
    assert by_version == {old.content_hash: 12, new.content_hash: 12}  # 2 posts, 3 codes, 2 coders
    assert store.execute("SELECT DISTINCT content_hash FROM code_values").fetchall() == [(new.content_hash,)]
    assert store.execute("SELECT count(*) FROM codebook_versions").fetchall() == [(2,)]
    assert ("1300000000000000001", "advice", 1) in _values(store)  # "feedback" now matches
    code_corpus(store, old, embedder=None)  # loading the old file makes it current again
    assert store.execute("SELECT DISTINCT content_hash FROM code_values").fetchall() == [(old.content_hash,)]


def test_auto_follows_the_source_with_the_best_kappa_on_human_codes():
    codebook = load_codebook(TINY)
    codes = assignable_codes(codebook)
    y = {c.id: np.array([1] * 6 + [0] * 6) for c in codes}
    perfect, useless = np.array([1] * 6 + [0] * 6), np.array([1, 0] * 6)
    labelled = {"auto:rules": {c.id: (useless, useless) for c in codes},
                "auto:semantic": {c.id: (perfect, perfect.astype(float)) for c in codes}}
    choice = choose(codes, labelled, y, None, has_semantic=True)
    assert {c["source"] for c in choice.values()} == {"semantic"}
    assert choice["advice"]["kappas"] == {"rules": 0.0, "semantic": 1.0, "rules+semantic": 0.5}
    few = {c.id: np.array([1] * 2 + [0] * 10) for c in codes}  # too few positives to judge
    assert choose(codes, labelled, few, None, True)["thanks"]["source"] == "rules+semantic"
    combined = combine(codes, {**labelled, "auto:rules": {c.id: (perfect, perfect) for c in codes}},
                       {c.id: {"source": "rules+semantic"} for c in codes})
    assert combined["advice"][0].tolist() == perfect.tolist()


def test_the_semantic_coders_kappa_behind_autos_choice_is_out_of_fold():
    """Its threshold is calibrated on the human-coded posts, so judged on them it looks better than it
    is; `auto` compares it with the supervised coder's out-of-fold kappa, so it is judged out-of-fold
    too. On scores that carry no signal, the in-sample threshold finds agreement; out-of-fold, none."""
    import pandas as pd

    from flows.coding.methods import out_of_fold_semantic
    from flows.coding.semantic import best_threshold
    from flows.coding.stats import cohen_kappa

    in_sample, out_of_fold = [], []
    for seed in range(10):  # 60 posts by 10 authors, random scores and codes
        rng = np.random.default_rng(seed)
        y, scores = rng.integers(0, 2, 60), rng.random(60)

        in_sample.append(cohen_kappa([y, (scores >= best_threshold(scores, y)).astype(int)]))
        decided = {"community": ((scores >= 0.5).astype(int), scores)}  # the semantic coder's decide
        oof = out_of_fold_semantic(decided, pd.DataFrame({"community": y}), np.repeat(np.arange(10), 6), 0)
        assert np.array_equal(oof["community"][1], scores)
        out_of_fold.append(cohen_kappa([y, oof["community"][0]]))
    assert np.mean(in_sample) > 0.05 > 0.02 > np.mean(out_of_fold)
    assert np.mean(in_sample) - np.mean(out_of_fold) > 0.1


@pytest.mark.parametrize("weight", [2.0, 0.0])
def test_the_supervised_coder_learns_character_grams_the_embedding_averages_away(monkeypatch, weight):
    """Posts told apart only by a made-up word (their vectors are all zero, no rule matches it):
    with the character grams the supervised coder learns the word; weighted out, it cannot."""
    import pandas as pd

    from flows.coding import supervised as sup
    from flows.coding.codebook import resolve_codebook
    from flows.coding.methods import _supervised_outputs, _train

    monkeypatch.setattr(sup, "CHAR_WEIGHT", weight)
    codebook = resolve_codebook("chretien2015")
    codes = assignable_codes(codebook)
    rules = RulesCoder(codebook, codes)
    dim = 8
    embed = lambda texts: np.zeros((len(texts), dim), np.float32)  # noqa: E731
    docs = [f"post {i} {'zqxvelt is out' if i % 2 else 'a quiet day on the ward'}" for i in range(40)]
    labelled = pd.DataFrame({"author_id": [f"a{i % 8}" for i in range(40)], "doc": docs, "text": docs,
                             **{c.id: [i % 2 if c.id == "information" else 0 for i in range(40)] for c in codes}})
    on_labels = {"vectors": embed(docs), "counts": rules.hit_counts(docs)}
    coder = sup.SupervisedCoder({"seed": 0, "trained_on": ["a"]})
    _train(coder, on_labels, labelled, codes, 0, rules, embed)
    assert set(coder.trained) == {"information"}  # the other codes have no positives
    new = ["zqxvelt is out today", "a quiet day"]
    counts = {k: np.asarray(v) for k, v in rules.hit_counts(new).items()}
    values, prob = _supervised_outputs(coder, codes, embed(new), counts, new)["information"]
    one_by_one = _supervised_outputs(coder, codes, embed(new), counts, new, chunk=1)["information"]
    assert one_by_one[0].tolist() == values.tolist() and np.allclose(one_by_one[1], prob)
    if weight:
        assert values.tolist() == [1, 0] and prob[0] > prob[1] + 0.3
        assert coder.trained["information"]["metrics"]["kappa"] == 1.0
    else:
        assert prob[0] == pytest.approx(prob[1])
