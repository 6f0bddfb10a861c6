"""What a topic model is fitted on and how: `TopicSettings`, the study file's `topics:` section."""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from flows.errors import UserError
from flows.provenance import canonical, digest

Kind = Literal["original", "reply", "quote", "repost"]
AUTHORED: list[Kind] = ["original", "reply", "quote"]


OUTLIER_THRESHOLD = 0.3   # similarity an outlier needs to be moved, for strategies other than embeddings
OUTLIER_PERCENTILE = 5    # outlier_threshold empty: as similar to a topic's centre as its 5 % least similar posts


def auto_topic_size(n_docs: int) -> int:
    """The smallest topic for ``n_docs`` fitted posts: one per 150 posts, at least 10, so that a
    corpus gives tens of topics rather than hundreds (5,000 posts: 33; 50,000: 333)."""
    return max(10, round(n_docs / 150))


class TopicError(UserError):
    """A topic-model problem explained for the person at the keyboard."""


class TopicSettings(BaseModel):
    """Everything that decides a fit; the same settings on the same posts give the same topics.

    By default only authored posts are modelled (originals, replies and quotes): reposts repeat
    another post's text and would otherwise dominate the topics.
    """

    model_config = ConfigDict(extra="forbid")

    model: str = Field("minilm", description="embedding model: minilm, minilm-int8 (faster, int8 ONNX), static, "
                                            "or a model folder/name")
    backend: Literal["bertopic", "kmeans"] = Field(
        "bertopic", description="the topic model: bertopic, or kmeans (a fast stand-in for dry runs and tests, "
                                "not for research)")
    seed: int = Field(2015, description="seeds UMAP (and so the whole fit)")
    kinds: list[Kind] = Field(default_factory=lambda: list(AUTHORED), min_length=1,
                              description="post kinds to model; add 'repost' to include reposts")
    languages: list[str] = Field(default_factory=list, description="language codes to keep; empty: all")
    since: date | None = Field(None, description="first day modelled (UTC, inclusive)")
    until: date | None = Field(None, description="last day modelled (UTC, inclusive)")
    min_topic_size: int | None = Field(None, ge=2, description="smallest topic (HDBSCAN min_cluster_size); "
                                       "empty: scaled to the posts fitted (see auto_topic_size)")
    min_samples: int | None = Field(None, ge=1, description="HDBSCAN min_samples (lower: fewer outliers); "
                                    "empty: a quarter of the smallest topic")
    nr_docs: int = Field(5, ge=1, le=100, description="representative posts kept per topic")
    top_n_words: int = Field(10, ge=1, le=50, description="c-TF-IDF keywords kept per topic")
    ngram_max: int = Field(2, ge=1, le=3, description="longest keyword phrase, in words")
    stop_words: list[str] = Field(default_factory=list, description="more words to keep out of keywords, "
                                  "beyond the stop words of the corpus's languages (stopwords-iso)")
    keep_words: list[str] = Field(default_factory=list, description="stop words to keep as keywords all the "
                                  "same (stopwords-iso's English list has 'research', 'information', 'world')")
    representation: Literal["mmr", "c-tf-idf", "keybert"] = Field(
        "mmr", description="keywords: mmr (c-TF-IDF candidates re-ranked for relevance and diversity "
                           "around the topic's centre), c-tf-idf, or keybert (BERTopic's KeyBERTInspired)")
    n_neighbors: int = Field(15, ge=2, description="UMAP neighbourhood (and the refresh vote's k)")
    n_components: int = Field(5, ge=2, description="UMAP output dimensions")
    reduce_outliers: Literal["off", "embeddings", "c-tf-idf", "distributions"] = Field(
        "embeddings", description="move outlier posts to their nearest topic by this strategy")
    outlier_threshold: float | None = Field(
        None, ge=0.0, le=1.0, description="minimum similarity for reduce_outliers to move a post; empty: "
        "embeddings moves a post only when it is as similar to the topic's centre as the topic's own 5 % least "
        "similar posts are (the other strategies: 0.3)")
    fit_sample: int = Field(50_000, ge=100, description="posts the model is fitted on (a seeded sample "
                            "stratified by month and language); the rest are assigned to its topics")
    codebook: str | None = Field(None, description="codebook id or file, to read topics beside codes")
    guidance: Literal["none", "guided", "zeroshot"] = Field(
        "none", description="guided: seed topics with the codebook's keywords; zeroshot: match "
                            "posts to its code definitions first")
    zeroshot_min_similarity: float = Field(
        0.5, ge=0.0, le=1.0, description="zeroshot: cosine similarity a post needs to join a code's topic")

    @model_validator(mode="after")
    def _consistent(self) -> TopicSettings:
        if self.since and self.until and self.since > self.until:
            raise ValueError(f"since ({self.since}) is after until ({self.until}); swap them")
        if self.guidance != "none" and not self.codebook:
            raise ValueError(f"guidance '{self.guidance}' needs a codebook; set codebook: ID")
        return self

    def resolved(self, n_docs: int) -> TopicSettings:
        """These settings with the sizes left empty filled in for ``n_docs`` fitted posts."""
        size = self.min_topic_size or auto_topic_size(n_docs)
        return self.model_copy(update={"min_topic_size": size,
                                       "min_samples": self.min_samples or max(1, size // 4)})

    def canonical(self) -> str:
        """Canonical JSON of every setting (defaults included): what run ids digest."""
        return canonical(self.model_dump(mode="json"))

    def digest(self) -> str:
        """sha256 (hex) of :meth:`canonical`."""
        return digest(self.model_dump(mode="json"))
