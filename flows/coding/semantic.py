"""The ``auto:semantic`` coder: how much closer a post is to a code's meaning than to its near misses.

For each code, a *positive prototype* is the normalised mean embedding of its definition, its
inclusion criteria and its positive examples; a *negative prototype* that of its exclusion
criteria and negative examples. A post's score is
``cos(post, positive) - NEGATIVE_WEIGHT * cos(post, negative)``. The negatives are near misses,
on the code's own topic, so subtracting them in full also subtracts the topic itself; a quarter
of their similarity penalises posts that read like a near miss without cancelling the topic.

Thresholds are per code. With human codes (the coders named by ``--train-from``, or
``consensus``) and at least :data:`MIN_EACH` posts coded present and absent, the threshold is
the one that maximises Cohen's kappa against them on those posts. Otherwise it is
:data:`DEFAULT_THRESHOLD`, set high to favour precision (with all-MiniLM-L6-v2, unrelated
posts score around 0.1-0.2 and on-topic ones 0.3-0.6). Caveat: that value was chosen while
looking at score distributions on the synthetic sample corpus, not on real posts.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from flows.coding.codebook import Code, Codebook

SEMANTIC_VERSION = "semantic/1"
DEFAULT_THRESHOLD = 0.40
NEGATIVE_WEIGHT = 0.25
MIN_EACH = 5  # fewest human-coded positives and negatives to calibrate on


def _normalised_mean(vectors: np.ndarray) -> np.ndarray:
    mean = vectors.mean(axis=0)
    return mean / (np.linalg.norm(mean) or 1.0)


def prototype_texts(code: Code) -> tuple[list[str], list[str]]:
    """The texts that describe ``code`` (positive side) and its near misses (negative side)."""
    examples = code.examples
    positive = [code.definition, *code.inclusion, *(examples.positive if examples else [])]
    negative = [*code.exclusion, *(examples.negative if examples else [])]
    return positive, negative


def best_threshold(scores: np.ndarray, labels: np.ndarray) -> float | None:
    """The cut (midpoint between adjacent distinct scores) that maximises Cohen's kappa.

    Ties go to the higher cut (fewer positives). ``None`` when there are fewer than
    :data:`MIN_EACH` positives or negatives.
    """
    from sklearn.metrics import cohen_kappa_score

    labels = np.asarray(labels, dtype=int)
    if labels.sum() < MIN_EACH or (1 - labels).sum() < MIN_EACH:
        return None
    distinct = np.unique(scores)
    cuts = (distinct[:-1] + distinct[1:]) / 2 if distinct.size > 1 else distinct
    best, best_kappa = float(cuts[-1]), -np.inf
    for cut in cuts[::-1]:  # high to low: the first maximum found is the highest cut
        kappa = cohen_kappa_score(labels, (scores >= cut).astype(int))
        if kappa > best_kappa + 1e-12:
            best, best_kappa = float(cut), kappa
    return best


class SemanticCoder:
    """Scores posts by embedding similarity to each code's prototypes; see the module docstring."""

    name = "auto:semantic"

    def __init__(self, codebook: Codebook, codes: list[Code], embed: Any, model_id: str) -> None:
        """``embed(texts) -> float32 L2-normalised array`` (cached); ``model_id`` names the model."""
        self.codebook, self.codes, self.model_id = codebook, codes, model_id
        self.prototypes = {}
        for code in codes:
            positive, negative = prototype_texts(code)
            pos = _normalised_mean(embed(positive))
            neg = _normalised_mean(embed(negative)) if negative else np.zeros_like(pos)
            self.prototypes[code.id] = (pos, neg)
        self.thresholds = {code.id: DEFAULT_THRESHOLD for code in codes}
        self.calibrated_on: list[str] = []
        self.n_labelled: dict[str, tuple[int, int]] = {}

    def scores(self, vectors: np.ndarray) -> dict[str, np.ndarray]:
        """Per code id, the score of each row of ``vectors`` (posts' embeddings)."""
        return {cid: vectors @ pos - NEGATIVE_WEIGHT * (vectors @ neg)
                for cid, (pos, neg) in self.prototypes.items()}

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
                "codebook": self.codebook.content_hash,
                "negative_weight": NEGATIVE_WEIGHT,
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
