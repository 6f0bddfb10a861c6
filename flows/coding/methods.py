"""The machine coders as in-memory methods (``fit``/``predict`` over :class:`~flows.coding.evaluate.Posts`).

These are the same coders :func:`flows.coding.machine.code_corpus` runs, without a store, so
the dev-set benchmark and the validation gate cross-validate exactly what the pipeline does.
``embed(texts)`` is the embedding function (cached by the caller) used for codebook texts;
posts carry their vectors.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from flows.coding.codebook import Code, Codebook, assignable_codes
from flows.coding.evaluate import Outputs, Posts
from flows.coding.rules import RulesCoder
from flows.coding.semantic import (
    DEFAULT_THRESHOLD,
    MIN_EACH,
    SemanticCoder,
    best_threshold,
    contrast_texts,
    fit_contrast,
)
from flows.coding.supervised import SupervisedCoder, _folds, features


def _arrays(outputs: dict[str, tuple]) -> Outputs:
    return {c: (np.asarray(v, dtype=int), np.asarray(s, dtype=float)) for c, (v, s) in outputs.items()}


class RulesMethod:
    """``auto:rules``: a code is present when one of its rules matches."""

    def __init__(self, codebook: Codebook) -> None:
        self.coder = RulesCoder(codebook, assignable_codes(codebook))

    def fit(self, train: Posts) -> None:  # rules learn nothing
        pass

    def predict(self, posts: Posts) -> Outputs:
        return _arrays(self.coder.score(posts.texts))


class SemanticMethod:
    """``auto:semantic``; ``calibrate`` sets its thresholds from the training posts' codes."""

    def __init__(self, codebook: Codebook, embed: Any, model_id: str, *, calibrate: bool = False) -> None:
        self.coder = SemanticCoder(codebook, assignable_codes(codebook), embed, model_id)
        self.calibrate = calibrate

    def fit(self, train: Posts) -> None:
        if self.calibrate and train.labels:
            self.coder.calibrate(train.vectors, train.labels, ["train"])

    def predict(self, posts: Posts) -> Outputs:
        return _arrays(self.coder.decide(posts.vectors))


class AutoMethod:
    """``auto`` as :func:`~flows.coding.machine.code_corpus` builds it; ``source`` forces one
    source for every code (``"supervised"`` gives the supervised coder alone, absent where it has
    no model)."""

    def __init__(self, codebook: Codebook, embed: Any, model_id: str, *, seed: int = 0,
                 source: str | None = None) -> None:
        self.codebook, self.embed, self.model_id, self.seed = codebook, embed, model_id, seed
        self.codes = assignable_codes(codebook)
        self.source = source
        self.rules = RulesCoder(codebook, self.codes)
        self.semantic = SemanticCoder(codebook, self.codes, embed, model_id)
        self.supervised, self.on_labels, self.y = None, None, None

    def fit(self, train: Posts) -> None:
        if not train.labels:
            return
        self.semantic.calibrate(train.vectors, train.labels, ["train"])
        frame = pd.DataFrame({"author_id": train.authors, "text": train.texts, "doc": train.docs,
                              **train.labels})
        self.on_labels = _labelled_outputs(self.rules, self.semantic, frame, lambda _: train.vectors, self.seed)
        self.y = dict(train.labels)
        self.supervised = SupervisedCoder({"seed": self.seed, "trained_on": ["train"]})
        _train(self.supervised, self.on_labels, frame, self.codes, self.seed, self.rules, self.embed)

    def predict(self, posts: Posts) -> Outputs:
        outputs = {"auto:rules": self.rules.score(posts.texts),
                   "auto:semantic": self.semantic.decide(posts.vectors)}
        counts = {k: np.asarray(v) for k, v in self.rules.hit_counts(posts.texts).items()}
        if self.supervised is not None:
            outputs["auto:supervised"] = _supervised_outputs(self.supervised, self.codes, posts.vectors, counts,
                                                              posts.docs)
        choice = choose(self.codes, self.on_labels, self.y, self.supervised, True)
        if self.source is not None:
            choice = {c: {"source": self.source} for c in choice}
            if self.source == "supervised":
                zero = (np.zeros(len(posts), dtype=int), np.zeros(len(posts)))
                return _arrays({c.id: outputs.get("auto:supervised", {}).get(c.id, zero)
                                for c in self.codes})
        return _arrays(combine(self.codes, outputs, choice))


def _topk(sims: np.ndarray, k: int) -> np.ndarray:
    k = min(k, sims.shape[1])
    return np.sort(sims, axis=1)[:, -k:].mean(axis=1)


class ExamplesMethod:
    """Zero-shot from the codebook: closer to a code's own texts than to its contrasts.

    ``kind="knn"``: the mean similarity to the ``k`` nearest own texts minus that to the ``k``
    nearest contrasts (kept for the benchmark: it did worse than the contrast model that
    ``auto:semantic`` uses, ``kind="logreg"``)."""

    def __init__(self, codebook: Codebook, embed: Any, model_id: str, *, kind: str = "knn",
                 k: int = 3, margin: float = 0.0, seed: int = 0) -> None:
        self.kind, self.k, self.margin, self.seed = kind, k, margin, seed
        texts = contrast_texts(assignable_codes(codebook))
        self.sets = {c: (embed(p), embed(n)) for c, (p, n) in texts.items()}
        self.models = {c: fit_contrast(p, n, seed) for c, (p, n) in self.sets.items()} if kind == "logreg" else {}

    def fit(self, train: Posts) -> None:
        pass

    def scores(self, vectors: np.ndarray) -> dict[str, np.ndarray]:
        if self.kind == "logreg":
            return {c: m.predict_proba(vectors)[:, 1] - 0.5 for c, m in self.models.items()}
        return {c: _topk(vectors @ p.T, self.k) - _topk(vectors @ n.T, self.k)
                for c, (p, n) in self.sets.items()}

    def predict(self, posts: Posts) -> Outputs:
        return {c: ((s > self.margin).astype(int), s) for c, s in self.scores(posts.vectors).items()}


class LogregMethod:
    """Logistic regression per code on frozen embeddings of the human-coded posts, with the
    codebook's texts as extra, down-weighted rows; threshold by author-grouped cross-validation."""

    def __init__(self, codebook: Codebook, embed: Any, model_id: str, *, seed: int = 0,
                 example_weight: float = 0.5, c: float = 1.0, cv: bool = True) -> None:
        self.seed, self.example_weight, self.c, self.cv = seed, example_weight, c, cv
        texts = contrast_texts(assignable_codes(codebook))
        self.sets = {k: (embed(p), embed(n)) for k, (p, n) in texts.items()}
        self.models, self.thresholds = {}, {}

    def _fit_one(self, code_id: str, x: np.ndarray, y: np.ndarray,
                 extra: tuple[np.ndarray, np.ndarray, float] | None = None):
        """One code's model on ``x, y``, the codebook's rows and ``extra`` rows ``(x, y, weight)``."""
        from sklearn.linear_model import LogisticRegression

        p, n = self.sets[code_id]
        xe, ye, we = extra if extra is not None else (np.zeros((0, x.shape[1]), x.dtype), np.zeros(0), 0.0)
        xs = np.vstack([x, p, n, xe])
        ys = np.r_[y, np.ones(len(p)), np.zeros(len(n)), ye]
        w = np.r_[np.ones(len(y)), np.full(len(p) + len(n), self.example_weight), np.full(len(ye), we)]
        model = LogisticRegression(C=self.c, class_weight="balanced", max_iter=2000, random_state=self.seed)
        return model.fit(xs, ys, sample_weight=w)

    def fit(self, train: Posts) -> None:
        from flows.coding.semantic import best_threshold
        from flows.coding.supervised import _folds

        for code_id in self.sets:
            y = train.labels.get(code_id, np.zeros(0, dtype=int)).astype(int)
            x = train.vectors
            threshold = 0.5
            if self.cv and len(y) and min(y.sum(), (1 - y).sum()) >= 3 and len(set(train.authors)) >= 3:
                oof = np.zeros(len(y))
                for fit_idx, test_idx in _folds(y, train.authors, self.seed):
                    oof[test_idx] = self._fit_one(code_id, x[fit_idx], y[fit_idx]).predict_proba(x[test_idx])[:, 1]
                cut = best_threshold(oof, y)
                threshold = 0.5 if cut is None else cut
            self.models[code_id] = self._fit_one(code_id, x, y)
            self.thresholds[code_id] = threshold

    def predict(self, posts: Posts) -> Outputs:
        out = {}
        for code_id, model in self.models.items():
            prob = model.predict_proba(posts.vectors)[:, 1]
            out[code_id] = ((prob >= self.thresholds[code_id]).astype(int), prob)
        return out


# -- the pieces of ``auto`` (used by flows.coding.machine too) ---------------------------------


def _labelled_outputs(rules: RulesCoder, semantic: SemanticCoder | None, labelled: pd.DataFrame,
                      embed, seed: int = 0) -> dict[str, Any]:
    """The rules' and semantic coder's output on the human-coded posts (with their vectors).

    The semantic coder's thresholds were calibrated on these same posts, so its decisions here
    are out-of-fold (:func:`out_of_fold_semantic`): judged in-sample, its kappa was flattering and
    ``auto`` preferred it to the supervised coder, whose kappa is out-of-fold, where the
    supervised coder was better (dev set, 240 posts: community 0.54 chosen against 0.67).
    """
    texts = labelled["text"].tolist()
    out: dict[str, Any] = {"auto:rules": rules.score(texts), "counts": rules.hit_counts(texts)}
    if semantic is not None:
        out["vectors"] = embed(labelled["doc"].tolist())
        out["auto:semantic"] = semantic.decide(out["vectors"])
        if semantic.calibrated_on:
            groups = labelled["author_id"].fillna("").to_numpy()
            out["auto:semantic"] = out_of_fold_semantic(out["auto:semantic"], labelled, groups, seed)
    return out


def out_of_fold_semantic(decided: dict[str, tuple[np.ndarray, np.ndarray]], labelled: pd.DataFrame,
                         groups: np.ndarray, seed: int) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Per code, the semantic coder's decisions (``decided``: its ``decide`` on the human-coded posts)
    with each post's threshold chosen on the other authors' posts (the folds of the supervised
    coder); a code with too few human codes either way keeps its decisions (``choose`` does not use
    them)."""
    out = {}
    for code_id, (values, scores) in decided.items():
        y = labelled[code_id].to_numpy().astype(int) if code_id in labelled else None
        if y is None or min(y.sum(), len(y) - y.sum()) < MIN_EACH:
            out[code_id] = (values, scores)
            continue
        oof = np.zeros(len(y), dtype=int)
        for fit_idx, test_idx in _folds(y, groups, seed):
            cut = best_threshold(scores[fit_idx], y[fit_idx])
            oof[test_idx] = scores[test_idx] >= (DEFAULT_THRESHOLD if cut is None else cut)
        out[code_id] = (oof, scores)
    return out


def codebook_rows(rules: RulesCoder, texts: dict[str, tuple[list[str], list[str]]], embed,
                  supervised: SupervisedCoder) -> dict[str, tuple[Any, np.ndarray]]:
    """Per code, the codebook's texts (``contrast_texts``) as supervised training rows (features, 0/1)."""
    out = {}
    for code_id, (positive, negative) in texts.items():
        texts = [*positive, *negative]
        x = features(embed(texts), np.asarray(rules.hit_counts(texts)[code_id]), supervised.grams_of(texts))
        out[code_id] = (x, np.r_[np.ones(len(positive)), np.zeros(len(negative))])
    return out


def _train(supervised: SupervisedCoder, on_labels: dict[str, Any], labelled: pd.DataFrame,
           codes: list[Code], seed: int, rules: RulesCoder, embed) -> None:
    """Fit the character grams on the human-coded posts and the codebook's texts, then each code's
    model on the posts' features plus the codebook's rows."""
    docs, texts = labelled["doc"].tolist(), contrast_texts(codes)
    supervised.fit_grams([*docs, *(t for p, n in texts.values() for t in (*p, *n))])
    extra = codebook_rows(rules, texts, embed, supervised)
    groups = labelled["author_id"].fillna("").to_numpy()
    grams = supervised.grams_of(docs)
    for code in codes:
        x = features(on_labels["vectors"], np.asarray(on_labels["counts"][code.id]), grams)
        supervised.fit(code.id, x, labelled[code.id].to_numpy(), groups, seed, extra.get(code.id))


def _supervised_outputs(supervised: SupervisedCoder, codes: list[Code], vectors: np.ndarray,
                        counts: dict[str, np.ndarray], docs: list[str], chunk: int = 10_000) -> dict[str, tuple]:
    """Per code with a model, ``(values, probabilities)``; ``chunk`` posts at a time, so a large
    corpus's sparse design matrix never exists whole."""
    parts: dict[str, list[tuple]] = {}
    for start in range(0, max(len(docs), 1), chunk):
        rows = slice(start, start + chunk)
        grams = supervised.grams_of(list(docs[rows]))
        for code in codes:
            decided = supervised.decide(code.id, features(vectors[rows], counts[code.id][rows], grams))
            if decided is not None:
                parts.setdefault(code.id, []).append(decided)
    return {c: (np.concatenate([v for v, _ in p]), np.concatenate([s for _, s in p])) for c, p in parts.items()}


SOURCES = ("rules", "semantic", "rules+semantic", "supervised")


def choose(codes: list[Code], labelled: dict[str, dict[str, tuple]] | None,
           y: dict[str, np.ndarray] | None, supervised: SupervisedCoder | None,
           has_semantic: bool) -> dict[str, dict[str, Any]]:
    """Per code, the source ``auto`` follows and the kappas behind the choice."""
    from flows.coding.stats import cohen_kappa

    choice = {}
    for code in codes:
        positives = None if y is None else int(np.sum(y[code.id]))
        if labelled is None or y is None or min(positives, len(y[code.id]) - positives) < MIN_EACH:
            source = "rules+semantic" if has_semantic and code.rule_coverage != "rules" else "rules"
            basis = "rule_coverage" if y is None else f"rule_coverage ({positives} human positives)"
            choice[code.id] = {"source": source, "kappas": None, "basis": basis}
            continue
        candidates = {}
        for source in SOURCES[:3] if has_semantic else SOURCES[:1]:
            kappa = cohen_kappa([y[code.id], _source_values(labelled, code.id, source)])
            candidates[source] = kappa
        if supervised is not None and code.id in supervised.trained:
            candidates["supervised"] = supervised.trained[code.id]["metrics"]["kappa"]
        ranked = sorted(candidates, key=lambda s: (-(candidates[s] if candidates[s] is not None
                                                     else -np.inf), SOURCES.index(s)))
        choice[code.id] = {"source": ranked[0], "basis": "human codes",
                           "kappas": {k: None if v is None else round(v, 6)
                                      for k, v in candidates.items()}}
    return choice


def _source_values(outputs: dict[str, dict[str, tuple]], code_id: str, source: str) -> np.ndarray:
    rules = np.asarray(outputs["auto:rules"][code_id][0])
    if source == "rules":
        return rules
    semantic = np.asarray(outputs["auto:semantic"][code_id][0])
    return semantic if source == "semantic" else np.maximum(rules, semantic)


def combine(codes: list[Code], outputs: dict[str, dict[str, tuple]],
            choice: dict[str, dict[str, Any]]) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """The ``auto`` values and scores per code, following ``choice``."""
    combined = {}
    for code in codes:
        source = choice[code.id]["source"]
        if source == "supervised":
            combined[code.id] = outputs["auto:supervised"][code.id]
        elif source == "rules":
            combined[code.id] = outputs["auto:rules"][code.id]
        elif source == "semantic":
            combined[code.id] = outputs["auto:semantic"][code.id]
        else:
            rule_values = np.asarray(outputs["auto:rules"][code.id][0])
            sem_scores = np.asarray(outputs["auto:semantic"][code.id][1])
            combined[code.id] = (_source_values(outputs, code.id, source),
                                 np.where(rule_values > 0, 1.0, sem_scores))
    return combined
