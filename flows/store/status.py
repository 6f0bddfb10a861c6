"""What is in the store: counts, date range and platforms (`ethnoflow status`)."""

from __future__ import annotations

import duckdb

PLATFORMS = ("twitter", "bluesky")


def status(con: duckdb.DuckDBPyConnection) -> dict:
    """Counts of posts, authors, sources and rejects, the date range, and posts per platform;
    ``other_facets``: Bluesky facet features kept as written but not read as entities.

    The keys are a stable interface that scripts rely on; new keys may be added.
    """
    posts, first, last = con.execute("SELECT count(*), min(created_at), max(created_at) FROM posts").fetchone()
    per_platform = dict(con.execute("SELECT platform, count(*) FROM posts GROUP BY platform").fetchall())
    return {
        "posts": posts,
        "authors": con.execute("SELECT count(*) FROM authors").fetchone()[0],
        "sources": con.execute("SELECT count(*) FROM sources").fetchone()[0],
        "rejects": con.execute("SELECT count(*) FROM rejects").fetchone()[0],
        "other_facets": _count_if_there(con, "other_facets"),
        "first": _iso(first),
        "last": _iso(last),
        "platforms": {p: per_platform.get(p, 0) for p in PLATFORMS},
        "kinds": dict(sorted(con.execute("SELECT kind, count(*) FROM posts GROUP BY kind").fetchall())),
    }


def _count_if_there(con: duckdb.DuckDBPyConnection, table: str) -> int | None:
    """Rows of a table a store opened read-only before its migration may lack (None then)."""
    there = con.execute("SELECT count(*) FROM duckdb_tables() WHERE database_name = current_database() "
                        "AND table_name = ?", [table]).fetchone()[0]
    return con.execute(f"SELECT count(*) FROM {table}").fetchone()[0] if there else None


def _iso(ts) -> str | None:
    return ts.isoformat().replace("+00:00", "Z") if ts is not None else None
