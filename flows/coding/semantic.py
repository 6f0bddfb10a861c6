"""The ``auto:semantic`` coder: zero-shot from the codebook, its texts used as prototypes and contrasts.

For each code, a small logistic regression is fitted on the embeddings of the codebook's own
texts (:func:`contrast_texts`): on one side the code's definition, inclusion criteria and
positive examples; on the other its exclusion criteria and negative examples (near misses) and
the *other* codes' positive examples (what a neighbouring code looks like). A post's score is the
model's probability that the code applies. No human codes are needed, so the codebook's
examples are what the coder learns from: write them to cover the boundary decisions.

Thresholds are per code. With human codes (the coders named by ``--train-from``, or
``consensus``) and at least :data:`MIN_EACH` posts coded present and absent, the threshold is
the one that maximises Cohen's kappa against them on those posts. Otherwise it is
:data:`DEFAULT_THRESHOLD` (even odds). Measured on the hand-coded dev set
(``benchmarks/bench_coding_devset.py``), this scorer beat the earlier one (distance to the mean
embedding of the positive texts minus a quarter of that to the negative ones) and a
nearest-examples margin (``benchmarks/bench_coding_devset.py`` prints every method's figures).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from flows.coding.codebook import Code, Codebook

SEMANTIC_VERSION = "semantic/2"
DEFAULT_THRESHOLD = 0.5
PARAMS = {"C": 1.0, "class_weight": "balanced", "max_iter": 2000}
MIN_EACH = 5  # fewest human-coded positives and negatives to calibrate on


def contrast_texts(codes: list[Code]) -> dict[str, tuple[list[str], list[str]]]:
    """Per code id, the codebook texts it applies to and the texts it does not (see above).

    An example listed under two codes counts as positive for both and as a contrast for neither.
    """
    examples = {c.id: list(c.examples.positive) if c.examples else [] for c in codes}
    out = {}
    for c in codes:
        positive = [t for t in [c.definition or "", *c.inclusion, *examples[c.id]] if t]
        others = [t for o in codes if o.id != c.id for t in examples[o.id] if t not in examples[c.id]]
        negative = [*c.exclusion, *(c.examples.negative if c.examples else []), *others]
        out[c.id] = (positive, list(dict.fromkeys(negative)))
    return out


def one_blas_thread(fn):
    """Run ``fn`` with one BLAS thread: the coding stage's fits are small (hundreds of rows), and
    threads spend more time waiting for each other than working (8x slower on a busy 2-core
    machine, as fast when it is idle)."""
    from functools import wraps

    @wraps(fn)
    def limited(*args, **kwargs):
        from threadpoolctl import threadpool_limits

        with threadpool_limits(limits=1, user_api="blas"):
            return fn(*args, **kwargs)

    return limited


@one_blas_thread
def fit_contrast(positive: np.ndarray, negative: np.ndarray, seed: int = 0) -> Any:
    """The logistic regression separating a code's own texts from its contrasts (``None`` if
    either side is empty)."""
    from sklearn.linear_model import LogisticRegression

    if not len(positive) or not len(negative):
        return None
    x, y = np.vstack([positive, negative]), np.r_[np.ones(len(positive)), np.zeros(len(negative))]
    return LogisticRegression(random_state=seed, **PARAMS).fit(x, y)


def best_threshold(scores: np.ndarray, labels: np.ndarray) -> float | None:
    """The cut (midpoint between adjacent distinct scores) that maximises Cohen's kappa.

    Ties go to the higher cut (fewer positives). ``None`` when there are fewer than
    :data:`MIN_EACH` positives or negatives.
    """
    labels = np.asarray(labels, dtype=int)
    if labels.sum() < MIN_EACH or (1 - labels).sum() < MIN_EACH:
        return None
    distinct, where = np.unique(scores, return_inverse=True)
    if distinct.size == 1:
        return float(distinct[0])
    cuts = (distinct[:-1] + distinct[1:]) / 2
    kappas = _kappas_above(where.ravel(), labels, distinct.size)
    best, best_kappa = float(cuts[-1]), -np.inf
    for cut, kappa in zip(cuts[::-1], kappas[::-1], strict=True):  # high to low: the first maximum is the highest cut
        if kappa > best_kappa + 1e-12:
            best, best_kappa = float(cut), kappa
    return best


def _kappas_above(where: np.ndarray, labels: np.ndarray, m: int) -> np.ndarray:
    """Cohen's kappa of "score above distinct value j" against ``labels``, for j = 0..m-2, all at
    once (sklearn's formula, 1 - observed / expected disagreement, without m calls)."""
    n, positives = len(labels), int(labels.sum())
    hits = np.bincount(where, weights=labels, minlength=m)[::-1].cumsum()[::-1]  # positives at or above j
    flagged = np.bincount(where, minlength=m)[::-1].cumsum()[::-1].astype(float)
    tp, pp = hits[1:], flagged[1:]  # predicted positive: strictly above distinct value j
    disagree = (pp - tp) + (positives - tp)
    expected = (pp * (n - positives) + (n - pp) * positives) / n
    return 1 - disagree / expected


class SemanticCoder:
    """Scores posts with each code's contrast model; see the module docstring."""

    name = "auto:semantic"

    def __init__(self, codebook: Codebook, codes: list[Code], embed: Any, model_id: str) -> None:
        """``embed(texts) -> float32 L2-normalised array`` (cached); ``model_id`` names the model."""
        self.codebook, self.codes, self.model_id = codebook, codes, model_id
        self.contrast = {cid: fit_contrast(embed(p), embed(n) if n else np.zeros((0, 1)))
                       for cid, (p, n) in contrast_texts(codes).items()}
        self.thresholds = {code.id: DEFAULT_THRESHOLD for code in codes}
        self.calibrated_on: list[str] = []
        self.n_labelled: dict[str, tuple[int, int]] = {}

    def scores(self, vectors: np.ndarray) -> dict[str, np.ndarray]:
        """Per code id, the score of each row of ``vectors`` (posts' embeddings)."""
        return {cid: (m.predict_proba(vectors)[:, 1] if m is not None and len(vectors) else np.zeros(len(vectors)))
                for cid, m in self.contrast.items()}

    def calibrate(self, vectors: np.ndarray, labels: dict[str, np.ndarray], coders: list[str]) -> None:
        """Set each code's threshold from human codes where there are enough of them."""
        scores = self.scores(vectors)
        for cid, y in labels.items():
            cut = best_threshold(scores[cid], y)
            self.n_labelled[cid] = (int(len(y)), int(np.sum(y)))
            if cut is not None:
                self.thresholds[cid] = cut
        self.calibrated_on = list(coders) if labels else []

    def decide(self, vectors: np.ndarray) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        """Per code id, ``(values, scores)`` for each row of ``vectors``."""
        return {cid: ((s >= self.thresholds[cid]).astype(int), s)
                for cid, s in self.scores(vectors).items()}

    @property
    def config(self) -> dict[str, Any]:
        """What decides this coder's output: a change re-codes every post."""
        return {"method": SEMANTIC_VERSION, "model": self.model_id,
                "codebook": self.codebook.codes_hash,
                "params": PARAMS,
                "thresholds": {k: round(v, 9) for k, v in sorted(self.thresholds.items())},
                "trained_on": self.calibrated_on}

    def models(self) -> list[dict[str, Any]]:
        """Rows for ``coder_models``: threshold and calibration source per code."""
        rows = []
        for code in self.codes:
            n, pos = self.n_labelled.get(code.id, (0, 0))
            calibrated = self.thresholds[code.id] != DEFAULT_THRESHOLD and self.calibrated_on
            rows.append({"code_id": code.id, "threshold": self.thresholds[code.id],
                         "calibrated_on": ",".join(self.calibrated_on) if calibrated else None,
                         "n_labelled": n, "n_positive": pos, "metrics": None})
        return rows
