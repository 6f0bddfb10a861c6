"""The ``auto:supervised`` coder: one logistic regression per code, learned from human codes.

Features per post: its (frozen) embedding, ``log1p`` of the number of the code's rules that
match, and its character 3-5-grams (within words; TF-IDF, sublinear, over the human-coded posts
and the codebook's texts, each gram in at least two of them), weighted by :data:`CHAR_WEIGHT`.
The grams are what the embedding averages away: on the dev set
(``benchmarks/bench_coding_devset.py``, 3 fold seeds) they took the macro kappa after 120 coded
posts from 0.546 to 0.632, after 60 from 0.413 to 0.474 and after 240 from 0.614 to 0.701
(word 1-2-grams: 0.596 at 120). Training rows: the human-coded posts, plus the codebook's own texts
(:func:`flows.coding.semantic.contrast_texts`: the code's definition, criteria and examples on
one side, its near misses and the other codes' examples on the other) at weight
:data:`EXAMPLE_WEIGHT`, so a few human codes refine what the codebook already says instead of
starting from nothing. Model: scikit-learn ``LogisticRegression`` (L2, ``C=1``, balanced class
weights, lbfgs). A code gets a model only with at least :data:`MIN_EACH` human-coded posts
present and absent.

Honest metrics: folds are grouped by author (``StratifiedGroupKFold``), so a post is never
scored by a model that saw the same author's posts; the decision threshold is the one that
maximises Cohen's kappa on the out-of-fold probabilities, and the stored metrics
(kappa, precision, recall, F1) are those of the out-of-fold decisions at that threshold.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from flows.coding.semantic import best_threshold, one_blas_thread
from flows.coding.stats import classification_metrics

SUPERVISED_VERSION = "supervised/3"
EXAMPLE_WEIGHT = 0.5
MIN_EACH = 5
MAX_FOLDS = 5
PARAMS = {"C": 1.0, "class_weight": "balanced", "max_iter": 2000}
CHAR_PARAMS = {"analyzer": "char_wb", "ngram_range": (3, 5), "sublinear_tf": True, "min_df": 2}
CHAR_WEIGHT = 2.0


def features(vectors: np.ndarray, rule_counts: np.ndarray, chars: Any = None) -> Any:
    """The design matrix of one code: embedding, log1p(rule hits) and, given ``chars`` (the posts'
    character-gram TF-IDF rows, sparse), those times :data:`CHAR_WEIGHT` (then sparse itself)."""
    dense = np.hstack([vectors, np.log1p(np.asarray(rule_counts, dtype=float))[:, None]])
    if chars is None:
        return dense
    from scipy import sparse

    return sparse.hstack([sparse.csr_matrix(dense), CHAR_WEIGHT * chars], format="csr")


def _folds(y: np.ndarray, groups: np.ndarray, seed: int) -> list[tuple[np.ndarray, np.ndarray]]:
    from sklearn.model_selection import StratifiedGroupKFold, StratifiedKFold

    smallest = int(min(y.sum(), (1 - y).sum()))
    n_groups = len(np.unique(groups))
    if n_groups >= 3:
        k = min(MAX_FOLDS, smallest, n_groups)
        splitter = StratifiedGroupKFold(n_splits=k, shuffle=True, random_state=seed)
        return list(splitter.split(np.zeros(len(y)), y, groups))
    splitter = StratifiedKFold(n_splits=min(MAX_FOLDS, smallest), shuffle=True, random_state=seed)
    return list(splitter.split(np.zeros(len(y)), y))


def _model(seed: int) -> Any:
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(random_state=seed, **PARAMS)


def _fit(x: Any, y: np.ndarray, extra: tuple[Any, np.ndarray] | None, seed: int) -> Any:
    weights = np.ones(len(y))
    if extra is not None and len(extra[1]):
        from scipy import sparse

        x = sparse.vstack([x, extra[0]], format="csr") if sparse.issparse(x) else np.vstack([x, extra[0]])
        y = np.r_[y, extra[1]]
        weights = np.r_[weights, np.full(len(extra[1]), EXAMPLE_WEIGHT)]
    return _model(seed).fit(x, y, sample_weight=weights)


@one_blas_thread
def train(x: Any, y: np.ndarray, groups: np.ndarray, seed: int,
          extra: tuple[Any, np.ndarray] | None = None) -> dict[str, Any] | None:
    """Cross-validate, pick the threshold, then fit on every labelled post.

    ``extra``: the codebook's rows (features, 0/1), added to every fit, never scored.

    Returns:
        ``{"model", "threshold", "metrics"}``, or ``None`` with too few positives or negatives.
    """
    y = np.asarray(y, dtype=int)
    if y.sum() < MIN_EACH or (1 - y).sum() < MIN_EACH:
        return None
    oof = np.zeros(len(y))
    folds = _folds(y, groups, seed)
    for fit_idx, test_idx in folds:
        if len(np.unique(y[fit_idx])) < 2:  # a fold without one class cannot be fitted
            oof[test_idx] = y[fit_idx].mean()
            continue
        oof[test_idx] = _fit(x[fit_idx], y[fit_idx], extra, seed).predict_proba(x[test_idx])[:, 1]
    threshold = best_threshold(oof, y)
    threshold = 0.5 if threshold is None else threshold
    metrics = classification_metrics(y.tolist(), (oof >= threshold).astype(int).tolist())
    metrics |= {"folds": len(folds), "grouped_by": "author", "threshold": round(threshold, 6)}
    return {"model": _fit(x, y, extra, seed), "threshold": threshold, "metrics": metrics}


class SupervisedCoder:
    """Per-code models trained by :func:`train`; codes without enough human codes get none."""

    name = "auto:supervised"

    def __init__(self, config: dict[str, Any]) -> None:
        self.base_config = config
        self.trained: dict[str, dict[str, Any]] = {}
        self.counts: dict[str, tuple[int, int]] = {}
        self.grams: Any = None

    def fit_grams(self, docs: list[str]) -> None:
        """Learn the character grams (vocabulary and IDF) from ``docs``: the human-coded posts and
        the codebook's texts. Neither their order nor duplicates' positions change the result."""
        from sklearn.feature_extraction.text import TfidfVectorizer

        self.grams = TfidfVectorizer(dtype=np.float64, **CHAR_PARAMS).fit(docs)

    def grams_of(self, docs: list[str]) -> Any:
        """The character-gram rows of ``docs`` (``None`` before :meth:`fit_grams`)."""
        if self.grams is None:
            return None
        if not len(docs):  # sklearn refuses an empty transform
            from scipy import sparse

            return sparse.csr_matrix((0, len(self.grams.vocabulary_)))
        return self.grams.transform(docs)

    def fit(self, code_id: str, x: Any, y: np.ndarray, groups: np.ndarray, seed: int,
            extra: tuple[Any, np.ndarray] | None = None) -> None:
        """Train one code's model (skipped, and remembered as such, with too few codes)."""
        self.counts[code_id] = (int(len(y)), int(np.sum(y)))
        result = train(x, y, groups, seed, extra)
        if result is not None:
            self.trained[code_id] = result

    def decide(self, code_id: str, x: Any) -> tuple[np.ndarray, np.ndarray] | None:
        """``(values, probabilities)`` for one code, or ``None`` when it has no model."""
        if code_id not in self.trained:
            return None
        found = self.trained[code_id]
        prob = found["model"].predict_proba(x)[:, 1]
        return (prob >= found["threshold"]).astype(int), prob

    @property
    def config(self) -> dict[str, Any]:
        return {**self.base_config, "method": SUPERVISED_VERSION, "params": PARAMS,
                "example_weight": EXAMPLE_WEIGHT,
                "char_grams": {**CHAR_PARAMS, "ngram_range": list(CHAR_PARAMS["ngram_range"]),
                               "weight": CHAR_WEIGHT}}

    def models(self) -> list[dict[str, Any]]:
        """Rows for ``coder_models``: per code, threshold and out-of-fold metrics (or none)."""
        rows = []
        for code_id, (n, pos) in sorted(self.counts.items()):
            found = self.trained.get(code_id)
            rows.append({"code_id": code_id, "threshold": found["threshold"] if found else None,
                         "calibrated_on": ",".join(self.base_config["trained_on"]),
                         "n_labelled": n, "n_positive": pos,
                         "metrics": found["metrics"] if found else None})
        return rows
