"""What the pipeline tests share: the result tables compared across runs, a counting fake
embedder, and one way each to run a study (plain runner, Prefect flow) and read what it stored."""

from __future__ import annotations

from flows.embed.models import FakeEmbedder
from flows.run.runner import run_study
from flows.store.db import connect
from flows.study.model import load_study

RESULT_TABLES = {
    "posts": "SELECT * FROM posts ORDER BY ALL",
    "codes": "SELECT platform, post_id, code_id, coder, value, score FROM code_assignments ORDER BY ALL",
    "topics": "SELECT post_id, topic FROM topic_assignments ORDER BY ALL",
    "embeddings": "SELECT model_id, text_sha256 FROM embeddings ORDER BY ALL",
}


class CountingEmbedder(FakeEmbedder):
    """The fake embedder, counting the texts it is asked to encode."""

    encoded: list[int] = []

    def encode(self, texts):
        CountingEmbedder.encoded.append(len(texts))
        return super().encode(texts)


def results(study_path) -> dict:
    s = load_study(study_path)
    with connect(s.path(s.database), read_only=True) as con:
        return {name: con.execute(sql).fetchall() for name, sql in RESULT_TABLES.items()}


def run(study_path, **kw) -> dict:
    """Every stage, through the plain runner, with the fakes passed in."""
    return run_study(load_study(study_path), embedder=CountingEmbedder(), topic_backend="kmeans", **kw)


def run_prefect(study_path, **kw) -> dict:
    """Every stage, through the real Prefect flow."""
    from flows.run.flow import run_with_prefect

    return run_with_prefect(str(study_path), **kw)


def counts_of(result: dict) -> dict:
    return {s["stage"]: s["counts"] for s in result["stages"]}


def vectors(study_path) -> list:
    s = load_study(study_path)
    with connect(s.path(s.database), read_only=True) as con:
        return con.execute("SELECT model_id, text_sha256, vector FROM embeddings ORDER BY 1, 2").fetchall()


def list_runs(study_path) -> list[dict]:
    from flows.run.records import list_runs as listed

    s = load_study(study_path)
    with connect(s.path(s.database), read_only=True) as con:
        return listed(con)


