"""`export_dataset`: one export of the coded posts, in any format, written aside then renamed."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path

import duckdb

from flows.export.paths import ExportError, atomic_outputs
from flows.export.selection import ExportOptions, select


def export_dataset(con: duckdb.DuckDBPyConnection, out: str | Path, options: ExportOptions,
                   *, secret: bytes | None = None) -> dict:
    """Export the store's posts (with codes, topics, roles) in ``options.fmt`` to ``out``.

    Args:
        con: the store (read-only is enough).
        out: the file to write; for ``ids``, the base name of the per-platform files.
        options: what to export and how.
        secret: the study secret for pseudonyms (default: :func:`flows.privacy.pseudonym.secret_for`).

    Returns:
        ``{"format", "files", ...}`` with counts of what was written.

    Raises:
        ExportError: a file exists (without ``force``), an unknown coder or codebook, a table too
            big for Excel, or a format that needs what the store lacks.
    """
    with inclusion_window(con, options.since, options.until):
        return _export(con, Path(out), options, secret)


@contextmanager
def inclusion_window(con: duckdb.DuckDBPyConnection, since: str | None, until: str | None) -> Iterator[None]:
    """While inside, ``posts`` on ``con`` names only the posts dated inside the study's inclusion
    window (a temporary view over the table, dropped on leaving); no window: the table itself."""
    if not since and not until:
        yield
        return
    db = con.execute("SELECT current_database()").fetchone()[0].replace('"', '""')
    bounds = ["true"]  # dates are checked as dates before they enter the SQL (a view takes no parameters)
    if since:
        bounds.append(f"created_at >= DATE '{date.fromisoformat(str(since))}'::TIMESTAMPTZ")
    if until:
        bounds.append(f"created_at < DATE '{date.fromisoformat(str(until))}'::TIMESTAMPTZ + INTERVAL 1 DAY")
    con.execute(f'CREATE OR REPLACE TEMP VIEW posts AS SELECT * FROM "{db}".main.posts WHERE {" AND ".join(bounds)}')
    try:
        yield
    finally:
        con.execute("DROP VIEW IF EXISTS temp.main.posts")


def _export(con: duckdb.DuckDBPyConnection, out: Path, options: ExportOptions, secret: bytes | None) -> dict:
    selection = select(con, options)
    redactor = _redactor(con, secret, options) if options.pseudonymize else None
    if options.fmt in ("csv", "parquet", "xlsx"):
        from flows.export.tabular import write_tabular

        result = write_tabular(con, out, selection, options, redactor)
    elif options.fmt == "ids":
        from flows.export.ids import write_ids

        result = write_ids(con, out, options, redactor)
    elif options.fmt == "qdc":
        if selection.codebook is None:
            raise ExportError("no codebook to export; pass --codebook ID (a shipped id or a .yaml path)")
        from flows.export.refiqda.codebook_xml import write_qdc

        with atomic_outputs([out], force=options.force) as (tmp,):
            write_qdc(selection.codebook, tmp)
        result = {"files": [str(out)], "codes": len(selection.codes)}
    else:
        if options.no_text:
            raise ExportError("a QDPX project is the posts' texts to code; --no-text does not apply")
        from flows.export.refiqda.project import write_qdpx

        with atomic_outputs([out], force=options.force) as (tmp,):
            result = write_qdpx(con, tmp, selection, options, out.stem, redactor)
        result["files"] = [str(out)]
    from flows.privacy.outputs import record

    record(con, result["files"], f"export dataset {options.fmt}", pseudonymized=options.pseudonymize)
    return {"format": options.fmt, **result}


def _redactor(con: duckdb.DuckDBPyConnection, secret: bytes | None, options: ExportOptions):
    """The redaction layer (:mod:`flows.privacy.redactor`) every pseudonymised format goes through."""
    from flows.privacy.redactor import RedactionError, Redactor

    try:
        return Redactor.for_store(con, secret=secret, remove_urls=options.remove_urls)
    except RedactionError as exc:
        raise ExportError(str(exc)) from None
