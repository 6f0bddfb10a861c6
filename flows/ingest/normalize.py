"""Turn a batch of raw records into canonical rows: the family's SQL, then the merge.

Normalisation is a separate, repeatable step: it reads only `raw_batch`, so the same
code re-runs over stored `raw_records` after a parser fix (`ethnoflow reparse`).
"""

from __future__ import annotations

import json
import queue
from collections import deque
from collections.abc import Iterable
from concurrent.futures import Future, ThreadPoolExecutor
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
STAGED = ("posts", "authors", "entities", "rejects")
_SCRATCH = ("raw_batch", "stg_posts", "stg_authors", "stg_entities", "stg_rejects")


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
    """Create the scratch tables and macros on a parsing connection."""
    con.execute(sql_text("ingest/stage.sql"))
    con.execute("SET VARIABLE parser_version = ?", [PARSER_VERSION])


class Normalizer:
    """Parses batches on worker connections into `_staging_*`, then merges them at once.

    Parsing runs outside any transaction, each worker on its own connection in autocommit
    mode, so scratch tables are freed batch by batch and two batches parse at once. Raw
    records and parsed rows land in tables nobody reads until `merge()` moves the parsed
    rows into the canonical tables in the caller's single transaction. `discard()` (or the
    next run) removes what a failed run left behind.
    """

    def __init__(self, con: duckdb.DuckDBPyConnection, workers: int = 2):
        self.con = con
        self.workers = workers
        self._free: queue.SimpleQueue = queue.SimpleQueue()
        for _ in range(workers):
            cursor = con.cursor()
            prepare(cursor)
            self._free.put(cursor)
        self._pool = ThreadPoolExecutor(max_workers=workers)

    def close(self) -> None:
        self._pool.shutdown(wait=True)
        while not self._free.empty():
            self._free.get().close()

    def parse(self, sha: str, how: Parse, batches: Iterable[list[Record]], *, keep_raw: bool = True) -> None:
        """Parse every batch of one source into the staging tables, `workers` at a time."""
        pending: deque[Future] = deque()
        for records in batches:
            pending.append(self._pool.submit(self._stage, sha, how, records, keep_raw))
            if len(pending) > self.workers:
                pending.popleft().result()
        while pending:
            pending.popleft().result()

    def _stage(self, sha: str, how: Parse, records: list[Record], keep_raw: bool) -> None:
        cursor = self._free.get()
        try:
            stage_batch(cursor, sha, how, records, keep_raw=keep_raw)
        finally:
            self._free.put(cursor)

    def merge(self, order: list[str]) -> dict[str, BatchCounts]:
        """Merge everything staged into the canonical tables; call inside a transaction.

        Args:
            order: the staged sources' sha256s in the order given, which decides which
                file a post is counted as new in when several files bring it.

        Returns:
            Counts per source sha256.
        """
        self.con.register("run_order", pa.table({"source_sha256": order, "seq": list(range(len(order)))}))
        self.con.execute(sql_text("ingest/merge.sql"))
        rows = self.con.execute("SELECT source_sha256, posts, new, rejected FROM run_counts").fetchall()
        self.con.unregister("run_order")
        counts = {sha: BatchCounts() for sha in order}
        for sha, posts, new, rejected in rows:
            counts[sha] = BatchCounts(posts=posts, new=new, rejected=rejected)
        return counts

    def discard(self) -> None:
        """Empty the staging tables and drop raw records of sources that never committed."""
        for table in STAGED:
            self.con.execute(f"DELETE FROM _staging_{table}")
        self.con.execute("DELETE FROM raw_records WHERE source_sha256 NOT IN (SELECT sha256 FROM sources)")


def stage_batch(cur: duckdb.DuckDBPyConnection, sha: str, how: Parse, records: list[Record],
                *, keep_raw: bool = True) -> None:
    """Store `records` as raw (unless re-parsing) and their normalised rows in `_staging_*`."""
    for table in _SCRATCH:
        cur.execute(f"DELETE FROM {table}")
    good = [(n, payload) for n, payload, problem in records if problem is None]
    bad = [(sha, n, 0, problem, payload) for n, payload, problem in records if problem is not None]
    cur.register("incoming", pa.table({"source_sha256": [sha] * len(good), "record_no": [n for n, _ in good],
                                       "payload": [p for _, p in good]}))
    cur.execute("INSERT INTO raw_batch SELECT * FROM incoming")
    cur.unregister("incoming")
    if keep_raw:
        _store_raw(cur, sha, records)
    if bad:
        cur.executemany("INSERT INTO stg_rejects VALUES (?, ?, ?, ?, ?)", bad)
    if good:
        account = how.context_value("archive_account")
        cur.execute("SET VARIABLE archive_account = ?", [json.dumps(account) if account else None])
        cur.execute(family_sql(how))
    for table in STAGED:
        cur.execute(f"INSERT INTO _staging_{table} BY NAME SELECT * FROM stg_{table}")


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
