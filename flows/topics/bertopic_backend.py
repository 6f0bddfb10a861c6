"""BERTopic over cached embeddings, with every random step seeded.

UMAP gets ``random_state`` from the settings' seed, which makes it single-threaded, and a PCA
initialisation: UMAP's default spectral one calls ARPACK per connected component of the
neighbour graph, and for small components ARPACK draws restart vectors from a generator no
seed reaches (measured here: the same 1,643 posts gave 53, 55 or 56 topics from run to run).
BLAS is held to one thread during the fit so sums do not depend on the core count. HDBSCAN
is deterministic given its input. Texts arrive in canonical order, so the same posts and
settings give the same topics whatever order files were ingested in.
BERTopic, UMAP and HDBSCAN are imported here only, inside :meth:`BERTopicBackend.fit`: the
first import compiles numba code (~40 s cold), which the CLI must not pay at start-up.
"""

from __future__ import annotations

import logging
import warnings
from pathlib import Path

import numpy as np

from flows.embed.models import Embedder
from flows.provenance import package_versions
from flows.topics.backend import Fit, Guide
from flows.topics.settings import TopicError, TopicSettings

MIN_DOCS = 20  # below this UMAP's neighbourhood graph and HDBSCAN's densities are meaningless


def _embedding_adapter(embedder: Embedder):
    """Our Embedder as a BERTopic embedding backend (used for seed words and zero-shot topics)."""
    from bertopic.backend import BaseEmbedder

    class EthnoflowEmbedder(BaseEmbedder):
        def embed(self, documents, verbose=False):
            return embedder.encode([str(d) for d in documents])

    return EthnoflowEmbedder()


class BERTopicBackend:
    """BERTopic with seeded UMAP, HDBSCAN (``min_cluster_size`` = min topic size) and c-TF-IDF."""

    name = "bertopic"

    def versions(self) -> dict[str, str]:
        return package_versions("bertopic", "umap-learn", "hdbscan", "pynndescent", "numba",
                                "scikit-learn", "numpy", "pandas")

    def _model(self, n: int, settings: TopicSettings, embedder: Embedder, guide: Guide | None,
               vectorizer=None):
        from bertopic import BERTopic
        from bertopic.representation import KeyBERTInspired
        from hdbscan import HDBSCAN
        from sklearn.feature_extraction.text import CountVectorizer
        from umap import UMAP

        logging.getLogger("BERTopic").setLevel(logging.ERROR)  # its notes on saving without a model
        settings = settings.resolved(n)  # a no-op for resolved settings
        umap = UMAP(n_neighbors=min(settings.n_neighbors, n - 1), n_components=min(settings.n_components, n - 2),
                    min_dist=0.0, metric="cosine", init="pca", random_state=settings.seed, n_jobs=1)
        hdbscan = HDBSCAN(min_cluster_size=settings.min_topic_size, min_samples=settings.min_samples,
                          metric="euclidean", cluster_selection_method="eom", prediction_data=False)
        vectorizer = vectorizer() if vectorizer else CountVectorizer(stop_words="english",
                                                                     ngram_range=(1, settings.ngram_max))
        return BERTopic(
            embedding_model=_embedding_adapter(embedder), umap_model=umap, hdbscan_model=hdbscan,
            vectorizer_model=vectorizer, top_n_words=settings.top_n_words, calculate_probabilities=False,
            representation_model=KeyBERTInspired(top_n_words=settings.top_n_words)
            if settings.representation == "keybert" else None,
            seed_topic_list=guide.seed_words if guide and guide.mode == "guided" else None,
            zeroshot_topic_list=guide.descriptions if guide and guide.mode == "zeroshot" else None,
            zeroshot_min_similarity=guide.min_similarity if guide else 0.7,
        ), vectorizer

    def fit(self, texts: list[str], embeddings: np.ndarray, settings: TopicSettings,
            embedder: Embedder, guide: Guide | None, vectorizer=None) -> Fit:
        if len(texts) < MIN_DOCS:
            raise TopicError(f"only {len(texts)} posts to model; BERTopic needs at least {MIN_DOCS} "
                             "(widen the date window, languages or kinds)")
        model, vectorizer = self._model(len(texts), settings, embedder, guide, vectorizer)
        from threadpoolctl import threadpool_limits

        x = np.array(embeddings, dtype=np.float32, copy=True)  # guided topics edit it in place
        with warnings.catch_warnings(), threadpool_limits(1):
            warnings.simplefilter("ignore")  # UMAP's notes on seeds and threads; pandas' on copies
            labels, probs = model.fit_transform(texts, x)
        labels = np.asarray(labels, dtype=np.int64)
        zeroshot = dict(getattr(model, "_topic_id_to_zeroshot_topic_idx", {}) or {})
        methods = ["zeroshot" if t in zeroshot else "cluster" for t in labels.tolist()]
        outliers = int((labels == -1).sum())
        probs = np.asarray(probs if probs is not None else np.zeros(len(texts)), dtype=np.float64)
        thresholds: dict[int, float] = {}
        if settings.reduce_outliers != "off" and outliers:
            labels, probs, methods, thresholds = self._reduce(model, vectorizer, texts, embeddings, labels, probs,
                                                              methods, settings)
        keywords = {int(t): [(w, float(s)) for w, s in words if w]
                    for t, words in model.get_topics().items()}
        return Fit(labels, probs, methods, keywords, outliers, thresholds=thresholds,
                   zeroshot_codes={int(t): int(i) for t, i in zeroshot.items()},
                   save=lambda path, keywords: _save(model, path, keywords))

    @staticmethod
    def _reduce(model, vectorizer, texts, embeddings, labels, probs, methods, settings):
        """Move outliers to their nearest topic, then recompute keywords for the new topics.

        'embeddings' is ethnoflow's rule (:func:`move_outliers`, the same for every backend: the
        topic's centre is the mean of its posts' embeddings, as BERTopic's ``topic_embeddings_``);
        the other strategies are BERTopic's ``reduce_outliers``."""
        from flows.topics.backend import move_outliers
        from flows.topics.settings import OUTLIER_THRESHOLD

        thresholds: dict[int, float] = {}
        nearest = None
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if settings.reduce_outliers == "embeddings":
                unit = embeddings / np.maximum(np.linalg.norm(embeddings, axis=1, keepdims=True), 1e-12)
                new, nearest, thresholds = move_outliers(unit, labels, settings.outlier_threshold)
            else:
                threshold = OUTLIER_THRESHOLD if settings.outlier_threshold is None else settings.outlier_threshold
                new = np.asarray(model.reduce_outliers(texts, labels.tolist(), strategy=settings.reduce_outliers,
                                                       threshold=threshold), dtype=np.int64)
                thresholds = {int(t): float(threshold) for t in set(new.tolist()) - {-1}}
            model.update_topics(texts, topics=new.tolist(), vectorizer_model=vectorizer,
                                top_n_words=settings.top_n_words, representation_model=model.representation_model)
        moved = (labels == -1) & (new != -1)
        offset = int(getattr(model, "_outliers", 0))
        topic_vectors = np.asarray(model.topic_embeddings_)
        probs = probs.copy()
        for i in np.flatnonzero(moved):  # the similarity that moved it (BERTopic's: to the topic's c-TF-IDF vector)
            v = topic_vectors[new[i] + offset]
            probs[i] = float(nearest[i]) if nearest is not None else float(
                embeddings[i] @ v / max(np.linalg.norm(v), 1e-12))
        methods = ["reduced" if m else old for m, old in zip(moved.tolist(), methods)]
        return new, probs, methods, thresholds


def _save(model, path: Path, keywords: dict[int, list[tuple[str, float]]]) -> None:
    """BERTopic's own safetensors format (topics, c-TF-IDF, config), loadable with BERTopic.load;
    its topics are described by ethnoflow's keywords (those stored), not BERTopic's c-TF-IDF."""
    model.topic_representations_ = {int(t): list(words) for t, words in sorted(keywords.items())}
    path.mkdir(parents=True, exist_ok=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.save(str(path), serialization="safetensors", save_ctfidf=True, save_embedding_model=False)
