"""What a topic model is fitted on and how: `TopicSettings`, the study file's `topics:` section."""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from flows.provenance import canonical, digest

Kind = Literal["original", "reply", "quote", "repost"]
AUTHORED: list[Kind] = ["original", "reply", "quote"]


class TopicError(Exception):
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
    min_topic_size: int = Field(10, ge=2, description="smallest topic (HDBSCAN min_cluster_size)")
    nr_docs: int = Field(5, ge=1, le=100, description="representative posts kept per topic")
    top_n_words: int = Field(10, ge=1, le=50, description="c-TF-IDF keywords kept per topic")
    ngram_max: int = Field(1, ge=1, le=3, description="longest keyword phrase, in words")
    representation: Literal["c-tf-idf", "keybert"] = Field(
        "c-tf-idf", description="keywords: c-TF-IDF, or refined KeyBERT-style (re-ranked by embedding "
                                "similarity to the topic's representative posts)")
    n_neighbors: int = Field(15, ge=2, description="UMAP neighbourhood (and the refresh vote's k)")
    n_components: int = Field(5, ge=2, description="UMAP output dimensions")
    reduce_outliers: Literal["off", "embeddings", "c-tf-idf", "distributions"] = Field(
        "off", description="move outlier posts to their nearest topic by this strategy")
    outlier_threshold: float = Field(0.0, ge=0.0, le=1.0,
                                     description="minimum similarity for reduce_outliers to move a post")
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

    def canonical(self) -> str:
        """Canonical JSON of every setting (defaults included): what run ids digest."""
        return canonical(self.model_dump(mode="json"))

    def digest(self) -> str:
        """sha256 (hex) of :meth:`canonical`."""
        return digest(self.model_dump(mode="json"))
