"""Rebuild the canonical tables from `raw_records` (after a parser fix): no file is re-read."""

from __future__ import annotations

import duckdb

from flows.ingest.normalize import PARSER_VERSION, Normalizer, Parse, honour_withdrawals
from flows.store.db import transaction

BATCH_RECORDS = 2000


def reparse(con: duckdb.DuckDBPyConnection) -> dict:
    """Re-normalise every source from its stored raw records, atomically.

    Sources are replayed in sha256 order; since the version of a post kept never depends
    on order, the result equals what ingesting the files afresh would give.
    """
    normalizer = Normalizer(con)
    try:
        normalizer.discard()
        sources = con.execute("SELECT sha256, format, preset, context FROM sources ORDER BY sha256").fetchall()
        for sha, fmt, preset, context in sources:
            normalizer.parse(sha, Parse(fmt, preset, context), _raw_batches(con, sha), keep_raw=False)
        normalizer.finish()
        with transaction(con):
            for table in ("posts", "authors", "entities", "rejects", "other_facets"):
                con.execute(f"DELETE FROM {table}")
            counts = normalizer.merge([sha for sha, *_ in sources])
            honour_withdrawals(con)
            for sha, c in counts.items():
                con.execute("UPDATE sources SET parser_version = ?, records_read = ?, ingested = ?, "
                            "duplicates = ?, rejected = ? WHERE sha256 = ?",
                            [PARSER_VERSION, c.posts + c.rejected, c.new, c.posts - c.new, c.rejected, sha])
    finally:
        normalizer.discard()
        normalizer.close()
    totals = con.execute("SELECT (SELECT count(*) FROM posts), (SELECT count(*) FROM rejects)").fetchone()
    return {"sources": len(sources), "posts": totals[0], "rejects": totals[1]}


def _raw_batches(con: duckdb.DuckDBPyConnection, sha: str):
    last = -1
    while True:
        rows = con.execute("SELECT record_no, payload, problem FROM raw_records WHERE source_sha256 = ? "
                           "AND record_no > ? ORDER BY record_no LIMIT ?", [sha, last, BATCH_RECORDS]).fetchall()
        if not rows:
            return
        yield [tuple(r) for r in rows]
        last = rows[-1][0]

