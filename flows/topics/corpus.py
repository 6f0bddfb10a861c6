"""Which posts a topic run models, in canonical order, and the hash of that input."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import duckdb

from flows.store.db import sql_text
from flows.topics.settings import TopicSettings


@dataclass(frozen=True)
class Docs:
    """Posts to model, sorted by (platform, post id): the order every model is fed in."""

    platforms: list[str]
    post_ids: list[str]
    texts: list[str]
    shas: list[str]
    langs: list[str]           # the platform's language tag ('' when none)

    def __len__(self) -> int:
        return len(self.post_ids)

    def input_hash(self, model_id: str) -> str:
        """sha256 over the embedding model and every (platform, post id, text hash), in order."""
        digest = hashlib.sha256(f"{model_id}\n".encode())
        for row in zip(self.platforms, self.post_ids, self.shas):
            digest.update(("\t".join(row) + "\n").encode("utf-8"))
        return digest.hexdigest()


PLAIN = "SELECT platform, post_id, doc, text_sha256, lang FROM final ORDER BY platform, post_id"


def select_docs(con: duckdb.DuckDBPyConnection, settings: TopicSettings, *,
                unassigned_in: str | None = None, limit: int | None = None, sample: bool = False) -> Docs:
    """The posts ``settings`` choose (kinds, languages, date window), with their texts.

    Args:
        unassigned_in: a run id; posts already assigned in that run are left out (a refresh).
        limit: at most this many (the first in canonical order): one batch of a refresh.
        sample: the fit's sample: ``settings.fit_sample`` posts, stratified by month and
            language, chosen by a hash seeded with ``settings.seed`` (all posts when fewer).
    """
    query = sql_text("topics/select_docs.sql").replace("{post_docs}", sql_text("topics/post_docs.sql"))
    params = {"kinds": list(settings.kinds), "languages": list(settings.languages),
              "since": settings.since, "until": settings.until, "run": unassigned_in}
    if sample:
        query += sql_text("topics/sample_docs.sql")
        params |= {"seed": settings.seed, "size": settings.fit_sample}
    else:
        query += "\n" + PLAIN + (f" LIMIT {int(limit)}" if limit else "")
    rows = con.execute(query, params).fetchall()
    columns = list(zip(*rows)) if rows else [(), (), (), (), ()]
    return Docs(*(list(c) for c in columns))


def count_docs(con: duckdb.DuckDBPyConnection, settings: TopicSettings) -> int:
    """How many posts ``settings`` choose."""
    query = sql_text("topics/select_docs.sql").replace("{post_docs}", sql_text("topics/post_docs.sql"))
    params = {"kinds": list(settings.kinds), "languages": list(settings.languages),
              "since": settings.since, "until": settings.until, "run": None}
    return con.execute(query + "\nSELECT count(*) FROM final", params).fetchone()[0]
