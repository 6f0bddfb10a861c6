"""Turn a batch of raw records into canonical rows: the family's SQL, then the merge.

Normalisation is a separate, repeatable step: it reads only `raw_batch`, so the same
code re-runs over stored `raw_records` after a parser fix (`ethnoflow reparse`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache

import duckdb
import pyarrow as pa

from flows.db import sql_text
from flows.ingest.readers import Record

# Bump when a normaliser's output changes; it is stored with every post.
PARSER_VERSION = "ethnoflow-ingest/1"
FAMILY_SQL = {
    "twarc2": "ingest/twitter_v2.sql",
    "v2": "ingest/twitter_v2.sql",
    "v1": "ingest/twitter_v1.sql",
    "archive": "ingest/twitter_v1.sql",
    "bluesky": "ingest/bluesky.sql",
}
_STAGING = ("raw_batch", "stg_posts", "stg_authors", "stg_entities", "stg_rejects")


@dataclass(frozen=True)
class Parse:
    """How a source's records are normalised; stored in `sources` so `reparse` can repeat it."""

    format: str
    preset: str | None = None
    context: str | None = None  # JSON: {"mapping": YAML text} or {"archive_account": {...}}

    def context_value(self, key: str):
        return json.loads(self.context).get(key) if self.context else None


@dataclass
class BatchCounts:
    """What one batch did: posts read, new posts stored, records rejected."""

    posts: int = 0
    new: int = 0
    rejected: int = 0

    def __iadd__(self, other: BatchCounts) -> BatchCounts:
        self.posts += other.posts
        self.new += other.new
        self.rejected += other.rejected
        return self


def prepare(con: duckdb.DuckDBPyConnection) -> None:
    """Create the staging tables and macros for this connection."""
    con.execute(sql_text("ingest/stage.sql"))
    con.execute("SET VARIABLE parser_version = ?", [PARSER_VERSION])


def normalize_batch(con: duckdb.DuckDBPyConnection, sha: str, how: Parse, records: list[Record],
                    *, keep_raw: bool = True) -> BatchCounts:
    """Store `records` as raw (unless re-parsing), normalise them and merge the result."""
    for table in _STAGING:
        con.execute(f"DELETE FROM {table}")
    good = [(n, payload) for n, payload, problem in records if problem is None]
    bad = [(sha, n, 0, problem, payload) for n, payload, problem in records if problem is not None]
    batch = pa.table({"source_sha256": [sha] * len(good), "record_no": [n for n, _ in good],
                      "payload": [p for _, p in good]})
    con.register("incoming", batch)
    con.execute("INSERT INTO raw_batch SELECT * FROM incoming")
    con.unregister("incoming")
    if keep_raw:
        _store_raw(con, sha, records)
    if bad:
        con.executemany("INSERT INTO stg_rejects VALUES (?, ?, ?, ?, ?)", bad)
    if good:
        account = how.context_value("archive_account")
        con.execute("SET VARIABLE archive_account = ?", [json.dumps(account) if account else None])
        con.execute(family_sql(how))
    posts = con.execute("SELECT count(*) FROM stg_posts").fetchone()[0]
    rejected = con.execute("SELECT count(*) FROM stg_rejects").fetchone()[0]
    con.execute(sql_text("ingest/merge.sql"))
    new = con.execute("SELECT count(*) FROM batch_keep WHERE is_new").fetchone()[0]
    return BatchCounts(posts=posts, new=new, rejected=rejected)


def _store_raw(con: duckdb.DuckDBPyConnection, sha: str, records: list[Record]) -> None:
    table = pa.table({"source_sha256": [sha] * len(records), "record_no": [r[0] for r in records],
                      "payload": [r[1] for r in records], "problem": [r[2] for r in records]})
    con.register("incoming_raw", table)
    con.execute("INSERT INTO raw_records SELECT * FROM incoming_raw")
    con.unregister("incoming_raw")


@lru_cache(maxsize=None)
def family_sql(how: Parse) -> str:
    """The normalising SQL for a format (a CSV's is compiled from its column mapping)."""
    if how.format == "csv":
        from flows.ingest.table_sql import compile_mapping
        from flows.ingest.tables import mapping_from_text, presets

        custom = how.context_value("mapping")
        return compile_mapping(mapping_from_text(custom) if custom else presets()[how.preset])
    text = sql_text(FAMILY_SQL[how.format])
    for name, spec in STRUCTS.items():
        text = text.replace("{{" + name + "}}", json.dumps(spec))
    return text


_ENT = {
    "hashtags": [{"start": "INTEGER", "end": "INTEGER", "tag": "VARCHAR"}],
    "cashtags": [{"start": "INTEGER", "end": "INTEGER", "tag": "VARCHAR"}],
    "mentions": [{"start": "INTEGER", "end": "INTEGER", "username": "VARCHAR", "id": "VARCHAR"}],
    "urls": [{"start": "INTEGER", "end": "INTEGER", "url": "VARCHAR", "expanded_url": "VARCHAR",
              "unwound_url": "VARCHAR"}],
}
# json_transform structures: one parse of a record yields typed columns. Numbers are read
# as the API wrote them; ids are VARCHAR so they are never rounded through a float.
STRUCTS = {
    "TWEET": {
        "id": "VARCHAR", "text": "VARCHAR", "author_id": "VARCHAR", "created_at": "VARCHAR",
        "conversation_id": "VARCHAR", "lang": "VARCHAR", "source": "VARCHAR",
        "in_reply_to_user_id": "VARCHAR", "withheld": "JSON",
        "referenced_tweets": [{"type": "VARCHAR", "id": "VARCHAR"}],
        "public_metrics": {k: "BIGINT" for k in (
            "retweet_count", "reply_count", "like_count", "quote_count", "impression_count")},
        "entities": _ENT,
        "note_tweet": {"text": "VARCHAR", "entities": _ENT},
    },
    "USER": {
        "id": "VARCHAR", "username": "VARCHAR", "name": "VARCHAR", "description": "VARCHAR",
        "location": "VARCHAR", "url": "VARCHAR", "created_at": "VARCHAR", "verified": "BOOLEAN",
        "protected": "BOOLEAN", "profile_image_url": "VARCHAR",
        "public_metrics": {k: "BIGINT" for k in (
            "followers_count", "following_count", "tweet_count", "listed_count")},
    },
}
