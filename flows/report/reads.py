"""The report's reads: the report-facing views of `flows/report/sql/` and small query helpers.

`install_views` creates the temporary views on the report's connection (read-only is fine);
sections then run `query("name", params)` for a multi-line query kept in
`flows/report/sql/<name>.sql`, or `rows(con, sql)` for a one-line select over the views.
"""

from __future__ import annotations

from typing import Any

import duckdb

from flows.report.settings import ReportError
from flows.store.db import sql_text

# The stage tables the views read; a store older than these migrations is refused with a fix.
NEEDED = ("posts", "sources", "rejects", "accounts_v", "author_roles", "superuser_candidates",
          "code_values", "codebook_current", "topic_runs", "topic_months", "coding_rounds")


def install_views(con: duckdb.DuckDBPyConnection, since: str | None = None, until: str | None = None) -> None:
    """Create the report-facing temporary views and macros on ``con`` (and read times in UTC).

    ``since`` and ``until`` (ISO dates, inclusive) are the study's inclusion window: the report's
    posts are those dated inside it.

    Raises:
        ReportError: the store lacks a table the report reads (an older schema).
    """
    names = {r[0] for r in con.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main'").fetchall()}
    missing = [n for n in NEEDED if n not in names]
    if missing:
        raise ReportError(f"the store lacks {', '.join(missing)}; open it once for writing to bring its "
                          "schema up to date (e.g. `ethnoflow status --db FILE` after `ethnoflow ingest`)")
    con.execute("SET TimeZone = 'UTC'")  # months and dates are UTC whoever opened the connection
    con.execute("SET VARIABLE report_since = ?::DATE", [str(since) if since else None])
    con.execute("SET VARIABLE report_until = ?::DATE", [str(until) if until else None])
    con.execute(sql_text("report/views.sql"))
    if "collect_runs" in names:  # collection records (migration 0018)
        con.execute(sql_text("report/collection.sql"))


def query(con: duckdb.DuckDBPyConnection, name: str, params: dict[str, Any] | None = None) -> list[dict]:
    """Rows of `flows/report/sql/<name>.sql` as dicts (the query fixes their order)."""
    return rows(con, sql_text(f"report/{name}.sql"), params)


def rows(con: duckdb.DuckDBPyConnection, sql: str, params: Any = None) -> list[dict]:
    """Rows of a select as dicts."""
    cur = con.execute(sql, params) if params is not None else con.execute(sql)
    names = [d[0] for d in cur.description]
    return [dict(zip(names, row)) for row in cur.fetchall()]


def scalar(con: duckdb.DuckDBPyConnection, sql: str, params: Any = None) -> Any:
    """The first column of the first row (None when there is no row)."""
    found = rows(con, sql, params)
    return next(iter(found[0].values())) if found else None
