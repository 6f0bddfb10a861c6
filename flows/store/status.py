"""What is in the store: counts, date range and platforms (`ethnoflow status`)."""

from __future__ import annotations

import duckdb

PLATFORMS = ("twitter", "bluesky")


def status(con: duckdb.DuckDBPyConnection) -> dict:
    """Counts of posts, authors, sources and rejects, the date range, and posts per platform.

    The keys are a stable interface that scripts rely on; new keys may be added.
    """
    posts, first, last = con.execute("SELECT count(*), min(created_at), max(created_at) FROM posts").fetchone()
    per_platform = dict(con.execute("SELECT platform, count(*) FROM posts GROUP BY platform").fetchall())
    return {
        "posts": posts,
        "authors": con.execute("SELECT count(*) FROM authors").fetchone()[0],
        "sources": con.execute("SELECT count(*) FROM sources").fetchone()[0],
        "rejects": con.execute("SELECT count(*) FROM rejects").fetchone()[0],
        "first": _iso(first),
        "last": _iso(last),
        "platforms": {p: per_platform.get(p, 0) for p in PLATFORMS},
        "kinds": dict(sorted(con.execute("SELECT kind, count(*) FROM posts GROUP BY kind").fetchall())),
    }


def _iso(ts) -> str | None:
    return ts.isoformat().replace("+00:00", "Z") if ts is not None else None
