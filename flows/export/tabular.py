"""CSV, Parquet and XLSX datasets, each with its data dictionary beside it.

CSV and Parquet are written by DuckDB's ``COPY`` straight from the dataset query; XLSX is
streamed in batches through openpyxl's write-only mode. CSV is UTF-8 (no byte-order mark,
which R, Stata and pandas read as part of the first column name), comma-separated, quoted
where needed, empty for missing values.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from flows.export.dictionary import dictionary_files, write_dictionary
from flows.export.paths import ExportError, atomic_outputs
from flows.export.selection import ExportOptions, Selection
from flows.export.table import dataset_query, describe, sql_literal

XLSX_MAX_ROWS = 1_048_575  # Excel's row limit, less the header
BATCH = 10_000


def write_tabular(con: duckdb.DuckDBPyConnection, out: Path, selection: Selection,
                  options: ExportOptions, pseudonymizer=None) -> dict:
    """Write the dataset as ``options.fmt`` to ``out`` plus ``<name>.dictionary.md/.json``.

    Returns:
        ``{"files": [...], "rows": N, "columns": [...]}``.
    """
    spreadsheet = options.fmt in ("csv", "xlsx")
    query = dataset_query(con, selection, options, spreadsheet=spreadsheet, pseudonymizer=pseudonymizer)
    columns = describe(con, query)
    md, js = dictionary_files(out)
    with atomic_outputs([out, md, js], force=options.force) as (tmp, tmp_md, tmp_js):
        if options.fmt == "xlsx":
            rows = _write_xlsx(con, query, [c for c, _ in columns], tmp)
        else:
            rows = _copy(con, query, tmp, options.fmt)
        write_dictionary(con, tmp_md, tmp_js, out, columns, rows, selection, options)
    return {"files": [str(out), str(md), str(js)], "rows": rows, "columns": [c for c, _ in columns]}


def _copy(con: duckdb.DuckDBPyConnection, query: str, path: Path, fmt: str) -> int:
    how = "FORMAT csv, HEADER" if fmt == "csv" else "FORMAT parquet, COMPRESSION zstd"
    result = con.execute(f"COPY ({query}) TO {sql_literal(str(path))} ({how})").fetchone()
    return int(result[0]) if result else 0


def _write_xlsx(con: duckdb.DuckDBPyConnection, query: str, header: list[str], path: Path) -> int:
    from openpyxl import Workbook
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    total = con.execute(f"SELECT count(*) FROM ({query})").fetchone()[0]
    if total > XLSX_MAX_ROWS:
        raise ExportError(f"{total:,} posts do not fit in one Excel sheet ({XLSX_MAX_ROWS:,} rows "
                          "at most); export --format csv or parquet instead")
    book = Workbook(write_only=True)
    sheet = book.create_sheet("posts")
    sheet.freeze_panes = "B2"
    sheet.append(header)
    cursor = con.execute(query)
    rows = 0
    while batch := cursor.fetchmany(BATCH):
        for row in batch:  # control characters (other than tab, LF, CR) are not allowed in XLSX
            sheet.append([ILLEGAL_CHARACTERS_RE.sub("\ufffd", v) if isinstance(v, str) else v
                          for v in row])
        rows += len(batch)
    book.save(path)
    return rows
