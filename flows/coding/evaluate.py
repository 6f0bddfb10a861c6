"""Honest measurement of machine coders: author folds, kappa with author-bootstrap intervals.

Everything here works on plain arrays, so the dev-set benchmark
(``benchmarks/bench_coding_devset.py``) and the validation gate (:mod:`flows.coding.gate`)
measure the same way:

- :func:`author_folds` splits *authors*, never posts, into seeded folds: a post is only ever
  scored by a model that saw none of its author's posts;
- :func:`kappa` is Cohen's kappa for one binary code (same value as scikit-learn's);
- :func:`kappa_ci` is a percentile interval from a *cluster* bootstrap that resamples authors
  with replacement (posts by one author are not independent, so resampling posts would give
  intervals that are too narrow).

A method is anything with ``fit(train: Posts)`` and ``predict(posts: Posts)``, the latter
returning ``{code_id: (values, scores)}``; :func:`cross_validate` runs one over the folds.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

Outputs = dict[str, tuple[np.ndarray, np.ndarray]]
N_BOOT = 1000


@dataclass(frozen=True)
class Posts:
    """Posts as a method sees them, row-aligned: raw text (rules read it), the embedded text
    (``doc``), its vector, the author (the unit of every split) and, when known, human codes."""

    texts: list[str]
    docs: list[str]
    vectors: np.ndarray
    authors: np.ndarray
    labels: dict[str, np.ndarray] = field(default_factory=dict)

    def take(self, idx: Sequence[int] | np.ndarray) -> Posts:
        """The rows ``idx``, in that order."""
        idx = np.asarray(idx, dtype=int)
        return Posts([self.texts[i] for i in idx], [self.docs[i] for i in idx], self.vectors[idx],
                     self.authors[idx], {c: y[idx] for c, y in self.labels.items()})

    def __len__(self) -> int:
        return len(self.texts)


class Method(Protocol):
    """A machine coder under test: zero-shot methods ignore ``fit``."""

    def fit(self, train: Posts) -> None: ...

    def predict(self, posts: Posts) -> Outputs: ...


def doc_text(text: str) -> str:
    """The text a post is embedded by (``flows/topics/sql/post_docs.sql``), for posts that are not
    in a store: an ``RT @x:`` prefix, the leading @mentions of a reply and URLs removed."""
    text = re.sub(r"^RT @[\w.-]+:\s*", "", text or "")
    text = re.sub(r"^(\s*@[\w.-]+)+", "", text)
    return " ".join(re.sub(r"https?://\S+", " ", text).split())


def author_folds(authors: Sequence[str] | np.ndarray, k: int, seed: int) -> list[np.ndarray]:
    """Row indices of each of ``k`` folds; every author's posts fall in one fold.

    Authors are sorted, shuffled with ``seed`` and dealt out in turn, so the folds do not depend
    on row order and hold about the same number of authors.
    """
    authors = np.asarray(authors, dtype=object)
    names = sorted(set(authors.tolist()))
    if len(names) < k:
        raise ValueError(f"{len(names)} authors cannot make {k} author folds; use fewer folds")
    order = [names[i] for i in np.random.default_rng(seed).permutation(len(names))]
    fold_of = {a: i % k for i, a in enumerate(order)}
    which = np.array([fold_of[a] for a in authors])
    return [np.flatnonzero(which == f) for f in range(k)]


def _kappa_from_counts(counts: np.ndarray) -> np.ndarray:
    """Kappa from rows of (tp, fp, fn, tn); NaN where undefined (no variation)."""
    tp, fp, fn, tn = (counts[..., i].astype(float) for i in range(4))
    n = tp + fp + fn + tn
    with np.errstate(invalid="ignore", divide="ignore"):
        observed = (tp + tn) / n
        chance = ((tp + fp) * (tp + fn) + (fn + tn) * (fp + tn)) / (n * n)
        return np.where(chance < 1, (observed - chance) / (1 - chance), np.nan)


def _counts(y: np.ndarray, p: np.ndarray) -> np.ndarray:
    y, p = np.asarray(y, dtype=bool), np.asarray(p, dtype=bool)
    return np.array([np.sum(y & p), np.sum(~y & p), np.sum(y & ~p), np.sum(~y & ~p)])


def kappa(y: np.ndarray, p: np.ndarray) -> float | None:
    """Cohen's kappa of two binary codings; ``None`` when undefined (no variation at all)."""
    value = float(_kappa_from_counts(_counts(y, p)))
    return None if np.isnan(value) else value


def kappa_ci(y: np.ndarray, p: np.ndarray, authors: np.ndarray, *, n_boot: int = N_BOOT,
             seed: int = 0, level: float = 0.95) -> tuple[float, float] | None:
    """Percentile interval of kappa, resampling authors with replacement (a cluster bootstrap).

    Resamples where kappa is undefined are skipped; ``None`` when kappa is undefined on the data
    or fewer than half of the resamples are defined. Seeded, and independent of row order.
    """
    if kappa(y, p) is None:
        return None
    authors = np.asarray(authors, dtype=object)
    names = sorted(set(authors.tolist()))
    per_author = np.stack([_counts(np.asarray(y)[authors == a], np.asarray(p)[authors == a])
                           for a in names])
    draws = np.random.default_rng(seed).integers(0, len(names), size=(n_boot, len(names)))
    values = _kappa_from_counts(per_author[draws].sum(axis=1))
    values = values[np.isfinite(values)]
    if values.size < n_boot / 2:
        return None
    tail = 100 * (1 - level) / 2
    low, high = np.percentile(values, [tail, 100 - tail])
    return float(low), float(high)


def cross_validate(make: Callable[[], Method], posts: Posts, folds: list[np.ndarray], *,
                   train_rows: Callable[[np.ndarray, int], np.ndarray] | None = None) -> Outputs:
    """Out-of-fold outputs: for each fold, a fresh method fitted on the other folds' posts.

    ``train_rows(pool, fold)`` may pick a subset of the training pool (e.g. a random 120 posts);
    by default the whole pool is used.
    """
    n = len(posts)
    out: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for f, test in enumerate(folds):
        pool = np.setdiff1d(np.arange(n), test)
        rows = pool if train_rows is None else train_rows(pool, f)
        method = make()
        method.fit(posts.take(rows))
        for code_id, (values, scores) in method.predict(posts.take(test)).items():
            v, s = out.setdefault(code_id, (np.zeros(n, dtype=int), np.zeros(n)))
            v[test], s[test] = np.asarray(values, dtype=int), np.asarray(scores, dtype=float)
    return out


def per_code(outputs: Outputs, posts: Posts, *, n_boot: int = N_BOOT, seed: int = 0,
             rows: np.ndarray | None = None) -> dict[str, dict[str, Any]]:
    """Per code: kappa, its author-bootstrap interval, and the counts behind them."""
    rows = np.arange(len(posts)) if rows is None else rows
    found = {}
    for code_id, y in posts.labels.items():
        if code_id not in outputs:
            continue
        truth, pred = y[rows], np.asarray(outputs[code_id][0])[rows]
        k = kappa(truth, pred)
        ci = kappa_ci(truth, pred, posts.authors[rows], n_boot=n_boot, seed=seed)
        found[code_id] = {"kappa": None if k is None else round(k, 3),
                          "ci": None if ci is None else [round(ci[0], 3), round(ci[1], 3)],
                          "n": int(len(rows)), "positives": int(truth.sum()),
                          "predicted": int(pred.sum())}
    return found


def macro(figures: dict[str, dict[str, Any]]) -> float | None:
    """Mean kappa over the codes where it is defined (an undefined kappa counts as 0)."""
    values = [f["kappa"] or 0.0 for f in figures.values()]
    return round(float(np.mean(values)), 3) if values else None
