"""The topic-model step behind one interface: BERTopic for real, a small numpy model for tests.

A backend turns texts and their embeddings into topic labels, probabilities and keywords.
Everything around it (choosing posts, embedding, representative posts, labels, codes, storage,
refresh) is the same for every backend, so the fast tests exercise the real pipeline and only
the clustering is swapped. :class:`KMeansBackend` is an honest, deterministic stand-in: seeded
spherical k-means plus class-based TF-IDF, no numba, no compilation.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, Protocol

import numpy as np

from flows.embed.models import Embedder
from flows.provenance import package_versions
from flows.topics.settings import TopicError, TopicSettings

Keywords = dict[int, list[tuple[str, float]]]
# A short English stop list for the k-means stand-in (sklearn's costs seconds to import).
STOP_WORDS = frozenset([
    "a", "about", "after", "all", "also", "am", "an", "and", "any", "are", "as", "at", "be", "been", "but",
    "by", "can", "could", "did", "do", "does", "for", "from", "had", "has", "have", "he", "her", "here",
    "him", "his", "how", "i", "if", "in", "into", "is", "it", "its", "just", "me", "more", "most", "my", "no",
    "not", "of", "on", "or", "our", "out", "over", "she", "so", "some", "than", "that", "the", "their",
    "them", "then", "there", "these", "they", "this", "those", "to", "too", "up", "us", "very", "was", "we",
    "were", "what", "when", "where", "which", "who", "why", "will", "with", "would", "you", "your"
])


@dataclass(frozen=True)
class Guide:
    """Codes that steer a fit: seed words (guided) or descriptions to match (zero-shot)."""

    mode: Literal["guided", "zeroshot"]
    code_ids: list[str]
    seed_words: list[list[str]]
    descriptions: list[str]
    min_similarity: float


@dataclass
class Fit:
    """What a backend returns, aligned with the texts it was given."""

    labels: np.ndarray                  # topic per post, -1 = outlier (after any reduction)
    probabilities: np.ndarray           # see topic_assignments.probability
    methods: list[str]                  # 'cluster', 'zeroshot' or 'reduced' per post
    keywords: Keywords                  # topic -> [(word, score)], best first (the backend's own;
                                        # ethnoflow describes topics itself unless keybert is asked)
    cluster_outliers: int               # outliers before reduce_outliers
    zeroshot_codes: dict[int, int] = field(default_factory=dict)  # topic -> index in Guide.code_ids
    thresholds: dict[int, float] = field(default_factory=dict)  # topic -> similarity an outlier needed to join
    save: Callable[[Path, Keywords], None] | None = None  # writes the model, with these keywords, to a folder


class TopicBackend(Protocol):
    """Fits topics over texts whose embeddings are already known."""

    name: str

    def versions(self) -> dict[str, str]:
        """Package versions that decide this backend's results (recorded with every run)."""
        ...

    def fit(self, texts: list[str], embeddings: np.ndarray, settings: TopicSettings,
            embedder: Embedder, guide: Guide | None, vectorizer=None) -> Fit:
        """Fit on texts (in canonical order) and their embeddings.

        ``settings`` have their sizes resolved (:meth:`TopicSettings.resolved`); ``vectorizer``
        makes the corpus's scikit-learn CountVectorizer
        (:meth:`flows.topics.vocabulary.Vocabulary.vectorizer`), for backends that need one."""
        ...


def move_outliers(x: np.ndarray, labels: np.ndarray, threshold: float | None
                  ) -> tuple[np.ndarray, np.ndarray, dict[int, float]]:
    """Outliers moved to the topic whose centre (unit mean embedding) is most similar, when at
    least ``threshold`` similar; with no threshold, when at least as similar as the topic's own
    OUTLIER_PERCENTILE % least similar posts are. Returns the labels, each post's similarity to
    its nearest centre (0 for posts that were in a topic) and each topic's threshold."""
    from flows.topics.settings import OUTLIER_PERCENTILE

    topics = sorted(set(labels.tolist()) - {-1})
    outliers = np.flatnonzero(labels == -1)
    nearest = np.zeros(len(labels))
    if not topics or not len(outliers):
        return labels, nearest, {}
    cents = np.stack([_centroid(x, labels, t) for t in topics])
    if threshold is None:
        needed = {t: float(np.percentile(x[labels == t] @ cents[j], OUTLIER_PERCENTILE))
                  for j, t in enumerate(topics)}
    else:
        needed = {t: float(threshold) for t in topics}
    sims = x[outliers] @ cents.T
    best = sims.argmax(axis=1)
    new = labels.copy()
    for i, j, s in zip(outliers.tolist(), best.tolist(), sims[np.arange(len(best)), best].tolist()):
        nearest[i] = s
        if s >= needed[topics[j]]:
            new[i] = topics[j]
    return new, nearest, {t: round(v, 6) for t, v in needed.items()}


def relabel_by_size(labels: np.ndarray) -> np.ndarray:
    """Topics numbered 0, 1, ... by descending size; ties by first appearance; -1 stays -1."""
    counts = Counter(int(t) for t in labels if t != -1)
    first = {}
    for i, t in enumerate(labels.tolist()):
        first.setdefault(t, i)
    order = sorted(counts, key=lambda t: (-counts[t], first[t]))
    mapping = {old: new for new, old in enumerate(order)} | {-1: -1}
    return np.array([mapping[int(t)] for t in labels], dtype=np.int64)


def class_tfidf(texts: list[str], labels: np.ndarray, top_n: int) -> Keywords:
    """BERTopic's c-TF-IDF in plain Python: tf per topic x log(1 + mean words per topic / tf)."""
    per_topic: dict[int, Counter] = {}
    for text, topic in zip(texts, labels.tolist()):
        words = [w for w in re.findall(r"[a-z][a-z0-9']+", text.lower()) if w not in STOP_WORDS]
        per_topic.setdefault(topic, Counter()).update(words)
    total = Counter()
    for counts in per_topic.values():
        total.update(counts)
    mean_words = sum(total.values()) / max(1, len(per_topic))
    keywords: Keywords = {}
    for topic, counts in per_topic.items():
        size = sum(counts.values()) or 1
        scores = {w: (c / size) * math.log(1 + mean_words / total[w]) for w, c in counts.items()}
        keywords[topic] = sorted(scores.items(), key=lambda kv: (-kv[1], kv[0]))[:top_n]
    return keywords


class KMeansBackend:
    """Seeded spherical k-means with c-TF-IDF keywords: deterministic, fast, for tests and demos.

    It picks about one topic per ``2 x min_topic_size`` posts; clusters smaller than
    ``min_topic_size`` become outliers. It does no guided or zero-shot topics and no KeyBERT
    keywords.
    """

    name = "kmeans"

    def versions(self) -> dict[str, str]:
        return package_versions("numpy")

    def fit(self, texts, embeddings, settings, embedder, guide, vectorizer=None) -> Fit:
        if guide is not None or settings.representation == "keybert":
            raise TopicError("the kmeans backend does no guided or zero-shot topics and no KeyBERT "
                             "keywords; use bertopic")
        k = max(1, len(texts) // (2 * settings.min_topic_size))
        centroids = self._kmeans(embeddings, k, settings.seed)
        sims = embeddings @ centroids.T
        labels = sims.argmax(axis=1)
        counts = Counter(labels.tolist())
        labels = np.array([t if counts[t] >= settings.min_topic_size else -1 for t in labels.tolist()])
        labels = relabel_by_size(labels)
        outliers = int((labels == -1).sum())
        methods = ["cluster"] * len(texts)
        thresholds: dict[int, float] = {}
        if settings.reduce_outliers != "off" and outliers:
            labels, methods, thresholds = self._reduce(labels, embeddings, settings)
        probs = np.array([max(0.0, float(embeddings[i] @ _centroid(embeddings, labels, t)))
                          if t != -1 else 0.0 for i, t in enumerate(labels.tolist())])
        return Fit(labels, probs, methods, class_tfidf(texts, labels, settings.top_n_words), outliers,
                   thresholds=thresholds)

    @staticmethod
    def _kmeans(x: np.ndarray, k: int, seed: int, iterations: int = 25) -> np.ndarray:
        rng = np.random.default_rng(seed)
        picked = [int(rng.integers(len(x)))]
        nearest = x @ x[picked[0]]
        for _ in range(1, k):  # k-means++ on cosine distance
            dist = np.clip(1 - nearest, 0, None) ** 2
            if dist.sum() == 0:
                break
            picked.append(int(rng.choice(len(x), p=dist / dist.sum())))
            nearest = np.maximum(nearest, x @ x[picked[-1]])
        c = x[picked]
        for _ in range(iterations):
            assign = (x @ c.T).argmax(axis=1)
            sums = np.zeros_like(c)
            np.add.at(sums, assign, x)
            empty = np.bincount(assign, minlength=len(c)) == 0
            sums[empty] = c[empty]
            c = sums / np.maximum(np.linalg.norm(sums, axis=1, keepdims=True), 1e-12)
        return c

    @staticmethod
    def _reduce(labels: np.ndarray, x: np.ndarray, settings: TopicSettings
                ) -> tuple[np.ndarray, list[str], dict[int, float]]:
        if settings.reduce_outliers != "embeddings":
            raise TopicError(f"the kmeans backend reduces outliers by 'embeddings' only, not "
                             f"'{settings.reduce_outliers}'; use bertopic for that strategy")
        new, _, thresholds = move_outliers(x, labels, settings.outlier_threshold)
        methods = ["reduced" if a != b else "cluster" for a, b in zip(labels.tolist(), new.tolist())]
        return new, methods, thresholds


def _centroid(x: np.ndarray, labels: np.ndarray, topic: int) -> np.ndarray:
    c = x[labels == topic].mean(axis=0)
    return c / max(float(np.linalg.norm(c)), 1e-12)

