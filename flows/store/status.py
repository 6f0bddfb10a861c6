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
        "undated": con.execute("SELECT count(*) FROM posts WHERE created_at IS NULL").fetchone()[0],
        "date_issues": _date_issues(con),
        "skipped_files": _count_if_there(con, "skipped_files"),
    }


def _date_issues(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """Posts whose date was set aside (before the platform existed, after retrieval, unreadable), by why."""
    if not _has_column(con, "posts", "date_issue"):
        return {}
    return dict(con.execute("SELECT date_issue, count(*) FROM posts WHERE date_issue IS NOT NULL "
                            "GROUP BY ALL ORDER BY 1").fetchall())


def _has_column(con: duckdb.DuckDBPyConnection, table: str, column: str) -> bool:
    return bool(con.execute("SELECT count(*) FROM duckdb_columns() WHERE database_name = current_database() "
                            "AND table_name = ? AND column_name = ?", [table, column]).fetchone()[0])


def _count_if_there(con: duckdb.DuckDBPyConnection, table: str) -> int | None:
    """Rows of a table a store opened read-only before its migration may lack (None then)."""
    there = con.execute("SELECT count(*) FROM duckdb_tables() WHERE database_name = current_database() "
                        "AND table_name = ?", [table]).fetchone()[0]
    return con.execute(f"SELECT count(*) FROM {table}").fetchone()[0] if there else None


def _iso(ts) -> str | None:
    if ts is None or isinstance(ts, str):  # a store from before 0011 may hold a date Python cannot
        return ts
    return ts.isoformat().replace("+00:00", "Z")
