"""Turn a batch of raw records into canonical rows: the family's SQL, then the merge.

Normalisation is a separate, repeatable step: it reads only `raw_batch`, so the same
code re-runs over stored `raw_records` after a parser fix (`ethnoflow reparse`).
"""

from __future__ import annotations

import itertools
import json
import queue
import shutil
import tempfile
from collections import deque
from collections.abc import Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import duckdb
import pyarrow as pa

from flows.ingest.readers import Record
from flows.store.db import sql_text

# Bump when a normaliser's output changes; it is stored with every post.
PARSER_VERSION = "ethnoflow-ingest/1"
FAMILY_SQL = {
    "twarc2": "ingest/twitter_v2.sql",
    "v2": "ingest/twitter_v2.sql",
    "v1": "ingest/twitter_v1.sql",
    "archive": "ingest/twitter_v1.sql",
    "bluesky": "ingest/bluesky.sql",
}
STAGED = ("posts", "authors", "entities", "rejects", "other_facets")
STAGING_PREFIX = "ethnoflow-staging-"
SHARED_BATCH_BYTES = 4 << 20  # small sources share a batch up to this size; a large file's batches go alone


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
    """What one batch did: posts read, new posts stored, records rejected, and facet features
    kept as written without being read (``other_facets``)."""

    posts: int = 0
    new: int = 0
    rejected: int = 0
    other_facets: int = 0

    def __iadd__(self, other: BatchCounts) -> BatchCounts:
        self.posts += other.posts
        self.new += other.new
        self.rejected += other.rejected
        self.other_facets += other.other_facets
        return self


def prepare(con: duckdb.DuckDBPyConnection) -> None:
    """Create the scratch tables and macros on a parsing connection."""
    con.execute(sql_text("ingest/stage.sql"))
    con.execute("SET VARIABLE parser_version = ?", [PARSER_VERSION])


class Normalizer:
    """Parses batches on worker connections into staging files, then merges them at once.

    Parsing runs outside any transaction, each worker on its own connection, so scratch
    tables are freed batch by batch and two batches parse at once. Raw records go straight
    into `raw_records` (invisible until their source commits); parsed rows go to Parquet
    files in a private staging folder. `merge()` then moves them into the canonical tables
    in the caller's single transaction. `discard()` removes what a failed run left behind.
    """

    def __init__(self, con: duckdb.DuckDBPyConnection, workers: int = 2, staging_root: Path | None = None):
        self.con = con
        self.workers = workers
        self._free: queue.SimpleQueue = queue.SimpleQueue()
        for _ in range(workers):
            cursor = con.cursor()
            prepare(cursor)
            self._free.put(cursor)
        self._pool = ThreadPoolExecutor(max_workers=workers)
        self._batches = itertools.count()
        self._pending: deque[Future] = deque()
        self._held: list[tuple[str, list[Record]]] = []  # (source sha256, records) not yet sent to a worker
        self._held_key: tuple[Parse, bool] | None = None
        self._held_bytes = 0
        root = staging_root or _database_folder(con)
        if root:  # we hold the database's write lock: staging folders beside it are a killed run's
            for stale in root.glob(STAGING_PREFIX + "*"):
                shutil.rmtree(stale, ignore_errors=True)
        self.staging = Path(tempfile.mkdtemp(prefix=STAGING_PREFIX, dir=root))
        cursor = self._free.get()
        _write_staged(cursor, self.staging, "empty")  # so every table has a file, even with no batch
        self._free.put(cursor)

    def close(self) -> None:
        self._pool.shutdown(wait=True)
        while not self._free.empty():
            self._free.get().close()
        shutil.rmtree(self.staging, ignore_errors=True)

    def parse(self, sha: str, how: Parse, batches: Iterable[list[Record]], *, keep_raw: bool = True) -> None:
        """Parse every batch of one source into staging files, `workers` at a time.

        Small sources parsed one after another the same way share a batch (each batch pays the
        family SQL's fixed cost, about 0.1 s, whatever its size); `finish` stages what is held.
        """
        for records in batches:
            if self._held and self._held_key != (how, keep_raw):
                self._flush()
            self._held.append((sha, records))
            self._held_key = (how, keep_raw)
            self._held_bytes += sum(len(r[1] or "") for r in records)
            if self._held_bytes >= SHARED_BATCH_BYTES:
                self._flush()

    def _flush(self) -> None:
        """Send the held records to a worker (at most `workers` batches in flight)."""
        if not self._held:
            return
        how, keep_raw = self._held_key
        self._pending.append(self._pool.submit(self._stage, how, self._held, keep_raw, next(self._batches)))
        self._held, self._held_bytes = [], 0
        if len(self._pending) > self.workers:
            self._pending.popleft().result()

    def finish(self) -> None:
        """Stage everything held and wait for every batch (a worker's error is raised here)."""
        self._flush()
        while self._pending:
            self._pending.popleft().result()

    def _stage(self, how: Parse, groups: list[tuple[str, list[Record]]], keep_raw: bool, batch: int) -> None:
        cursor = self._free.get()
        try:
            stage_batch(cursor, how, groups, keep_raw=keep_raw)
            _write_staged(cursor, self.staging, f"{batch:06d}")
        finally:
            self._free.put(cursor)

    def merge(self, order: list[str]) -> dict[str, BatchCounts]:
        """Merge everything staged into the canonical tables; call `finish` first, then this
        inside a transaction (begun after `finish`, so that it sees the raw records stored).

        Args:
            order: the staged sources' sha256s in the order given, which decides which
                file a post is counted as new in when several files bring it.

        Returns:
            Counts per source sha256.
        """
        if self._held or self._pending:
            raise RuntimeError("Normalizer.merge before finish: batches are still being parsed")
        con = self.con
        con.register("run_order", pa.table({"source_sha256": order, "seq": list(range(len(order)))}))
        for table in STAGED:
            # only the sources merged now: a file that failed while parsing left batches behind
            con.execute(f"CREATE OR REPLACE TEMP VIEW staged_{table} AS "
                        f"SELECT * FROM read_parquet('{self.staging / table}-*.parquet') "
                        "WHERE source_sha256 IN (SELECT source_sha256 FROM run_order)")
        con.execute(sql_text("ingest/merge.sql"))
        rows = con.execute("SELECT source_sha256, posts, new, rejected, other_facets FROM run_counts").fetchall()
        con.unregister("run_order")
        counts = {sha: BatchCounts() for sha in order}
        for sha, posts, new, rejected, other in rows:
            counts[sha] = BatchCounts(posts=posts, new=new, rejected=rejected, other_facets=other)
        return counts

    def discard(self) -> None:
        """Drop raw records of sources that never committed (this run's, or a killed run's)."""
        self.con.execute("DELETE FROM raw_records WHERE source_sha256 NOT IN (SELECT sha256 FROM sources)")


def honour_withdrawals(con: duckdb.DuckDBPyConnection) -> None:
    """Remove accounts withdrawn from the study (`ethnoflow forget`) that a merge brought back;
    call inside the merge's transaction, so they are never visible."""
    from flows.privacy.forget import honour_blocklist

    honour_blocklist(con)


def stage_batch(cur: duckdb.DuckDBPyConnection, how: Parse, groups: list[tuple[str, list[Record]]],
                *, keep_raw: bool = True) -> None:
    """Store the records of each (source sha256, records) group as raw (unless re-parsing) and
    normalise them all into the `stg_*` tables; every row keeps its source."""
    for table in STAGED:
        cur.execute(f"DELETE FROM stg_{table}")
    good = [(sha, n, payload) for sha, records in groups for n, payload, problem in records if problem is None]
    if how.format == "bluesky" and how.preset == "4cat":
        good = [(sha, n, fourcat_camel(payload)) for sha, n, payload in good]
    bad = [(sha, n, 0, problem, payload) for sha, records in groups for n, payload, problem in records
           if problem is not None]
    cur.register("raw_batch", pa.table({"source_sha256": [g[0] for g in good], "record_no": [g[1] for g in good],
                                        "payload": [g[2] for g in good]}))
    if keep_raw:
        _store_raw(cur, groups)
    if bad:
        cur.executemany("INSERT INTO stg_rejects VALUES (?, ?, ?, ?, ?)", bad)
    if good:
        account = how.context_value("archive_account")
        cur.execute("SET VARIABLE archive_account = ?", [json.dumps(account) if account else None])
        cur.execute(family_sql(how))
        cur.execute(sql_text("ingest/dates.sql"))  # dates a post cannot have are set aside
    cur.unregister("raw_batch")


def fourcat_camel(payload: str) -> str:
    """A 4CAT Bluesky NDJSON line (the API's views as the atproto library dumps them: snake_case keys,
    ``py_type`` for ``$type``) in the API's own spelling, which bluesky.sql reads. The raw record
    keeps the line as written; this runs again on every re-parse."""
    try:
        return json.dumps(_camel(json.loads(payload)), ensure_ascii=False)
    except ValueError:
        return payload  # not JSON: bluesky.sql rejects it with its reason


def _camel(value):
    if isinstance(value, list):
        return [_camel(v) for v in value]
    if not isinstance(value, dict):
        return value
    out = {}
    for key, v in value.items():
        if key == "py_type":
            key = "$type"
        elif "_" in key and not key.startswith(("_", "4CAT")):
            head, *rest = key.split("_")
            key = head + "".join(part[:1].upper() + part[1:] for part in rest)
        out[key] = _camel(v)
    return out


def _database_folder(con: duckdb.DuckDBPyConnection) -> Path | None:
    """The folder of the database file (None in memory): staging files go beside it."""
    path = con.execute("SELECT path FROM duckdb_databases() WHERE database_name = current_database()").fetchone()[0]
    return Path(path).resolve().parent if path else None


def _write_staged(cur: duckdb.DuckDBPyConnection, folder: Path, name: str) -> None:
    for table in STAGED:
        cur.execute(f"COPY stg_{table} TO '{folder / table}-{name}.parquet' (FORMAT parquet)")


def _store_raw(con: duckdb.DuckDBPyConnection, groups: list[tuple[str, list[Record]]]) -> None:
    rows = [(sha, *r) for sha, records in groups for r in records]
    table = pa.table({"source_sha256": [r[0] for r in rows], "record_no": [r[1] for r in rows],
                      "payload": [r[2] for r in rows], "problem": [r[3] for r in rows]})
    con.register("incoming_raw", table)
    con.execute("INSERT INTO raw_records SELECT * FROM incoming_raw")
    con.unregister("incoming_raw")


@cache
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
