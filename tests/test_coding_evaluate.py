"""Honest measurement: author folds, kappa and its author-bootstrap interval, cross-validation."""

from __future__ import annotations

import numpy as np
from sklearn.metrics import cohen_kappa_score

from flows.coding.evaluate import Posts, author_folds, cross_validate, doc_text, kappa, kappa_ci, per_code


def _posts(n=60, authors=12, seed=0):
    rng = np.random.default_rng(seed)
    y = (rng.random(n) < 0.3).astype(int)
    vectors = np.c_[y + rng.normal(0, 0.5, n), rng.normal(0, 1, n)].astype(np.float32)
    names = np.array([f"a{i % authors}" for i in range(n)], dtype=object)
    return Posts([f"t{i}" for i in range(n)], [f"t{i}" for i in range(n)], vectors, names, {"x": y})


class Threshold:
    """A one-feature method: learns the mean of the positives' first feature."""

    def fit(self, train):
        y = train.labels["x"]
        self.cut = train.vectors[y == 1, 0].mean() / 2 if y.any() else 0.5

    def predict(self, posts):
        s = posts.vectors[:, 0]
        return {"x": ((s > self.cut).astype(int), s)}


def test_kappa_agrees_with_scikit_learn_and_is_undefined_without_variation():
    rng = np.random.default_rng(1)
    y, p = rng.integers(0, 2, 50), rng.integers(0, 2, 50)
    assert abs(kappa(y, p) - cohen_kappa_score(y, p)) < 1e-12
    assert kappa(np.zeros(5), np.zeros(5)) is None
    assert kappa(np.array([0, 1, 0]), np.zeros(3)) == 0.0


def test_author_folds_keep_each_author_in_one_fold_whatever_the_row_order():
    authors = np.array([f"a{i % 7}" for i in range(40)], dtype=object)
    folds = author_folds(authors, 3, seed=5)
    assert sorted(np.concatenate(folds).tolist()) == list(range(40))
    assert all(len(set(authors[f]) & set(authors[g])) == 0 for f in folds for g in folds if f is not g)
    flipped = author_folds(authors[::-1], 3, seed=5)
    assert [sorted(set(authors[::-1][f])) for f in flipped] == [sorted(set(authors[f])) for f in folds]


def test_kappa_ci_resamples_authors_is_seeded_and_brackets_kappa():
    posts = _posts()
    y, p = posts.labels["x"], (posts.vectors[:, 0] > 0.5).astype(int)
    low, high = kappa_ci(y, p, posts.authors, seed=3)
    assert low <= kappa(y, p) <= high
    assert kappa_ci(y, p, posts.authors, seed=3) == (low, high)
    order = np.random.default_rng(0).permutation(len(y))
    assert kappa_ci(y[order], p[order], posts.authors[order], seed=3) == (low, high)


def test_cross_validate_scores_every_post_with_a_model_blind_to_its_author():
    posts = _posts()
    folds = author_folds(posts.authors, 4, seed=0)
    out = cross_validate(Threshold, posts, folds)
    figures = per_code(out, posts, n_boot=200)
    assert figures["x"]["n"] == 60 and figures["x"]["kappa"] > 0.3 and figures["x"]["ci"] is not None


def test_doc_text_follows_the_embedding_rule():
    assert doc_text("RT @ab_c: Great read https://t.co/x  here") == "Great read here"
    assert doc_text("@a @b thanks!") == "thanks!"
