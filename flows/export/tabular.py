"""CSV, Parquet and XLSX datasets, each with its data dictionary beside it.

CSV and Parquet are written by DuckDB's ``COPY`` straight from the dataset query; XLSX is
streamed in batches through openpyxl's write-only mode. CSV is UTF-8 (no byte-order mark,
which R, Stata and pandas read as part of the first column name), comma-separated, quoted
where needed, empty for missing values.

Excel holds at most 32,767 characters (UTF-16 units) in a cell and cuts longer text when it
opens a file. XLSX splits such a text into continuation columns (``text``, ``text_part2``,
...) right after it, each part guarded against formulas like any cell; CSV keeps the text whole
(R and pandas read it all) and counts what Excel would cut. Either way the command's result and
the data dictionary say how many posts it touched.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from flows.export.dictionary import dictionary_files, write_dictionary
from flows.export.paths import ExportError, atomic_outputs
from flows.export.selection import ExportOptions, Selection
from flows.export.table import SAFE_TEXT, dataset_query, describe, sql_literal
from flows.privacy.spreadsheet import EXCEL_CELL_LIMIT, excel_parts, excel_units

XLSX_MAX_ROWS = 1_048_575  # Excel's row limit, less the header
BATCH = 10_000


def write_tabular(con: duckdb.DuckDBPyConnection, out: Path, selection: Selection,
                  options: ExportOptions, redactor=None) -> dict:
    """Write the dataset as ``options.fmt`` to ``out`` plus ``<name>.dictionary.md/.json``.

    Returns:
        ``{"files": [...], "rows": N, "columns": [...]}``, and for CSV and XLSX
        ``texts_over_excel_limit``: posts with a cell longer than Excel holds (XLSX: split).
    """
    spreadsheet = options.fmt in ("csv", "xlsx")
    query = dataset_query(con, selection, options, spreadsheet=spreadsheet, redactor=redactor)
    columns = describe(con, query)
    parts = long_cells(con, query, columns, options.pseudonymize) if spreadsheet else None
    md, js = dictionary_files(out)
    with atomic_outputs([out, md, js], force=options.force) as (tmp, tmp_md, tmp_js):
        if options.fmt == "xlsx":
            rows, columns = _write_xlsx(con, query, columns, parts, tmp)
        else:
            rows = _copy(con, query, tmp, options.fmt)
        write_dictionary(con, tmp_md, tmp_js, out, columns, rows, selection, options, excel=parts)
    result = {"files": [str(out), str(md), str(js)], "rows": rows, "columns": [c for c, _ in columns]}
    if parts is not None:
        result["texts_over_excel_limit"] = parts["posts"]
    return result


# A pseudonym (``@user_`` and 16 hex digits) can stand for a two-character @mention: a text
# grows at most this many times when pseudonymised.
PSEUDONYM_GROWTH = 11


def long_cells(con: duckdb.DuckDBPyConnection, query: str, columns: list[tuple[str, str]],
               pseudonymized: bool = False) -> dict:
    """Cells Excel would cut: ``{"posts": N, "parts": {column: most parts a value needs}}``.

    A value of at most 16,383 characters fits whatever it holds (each is at most two units, with
    one more for a formula guard), so only longer ones are measured; and when no stored text
    could grow that long, the dataset query is not run again at all.
    """
    texts = [name for name, dtype in columns if dtype == "VARCHAR" and name not in SAFE_TEXT]
    bound = EXCEL_CELL_LIMIT // 2 // (PSEUDONYM_GROWTH if pseudonymized else 1)
    longest = con.execute("SELECT greatest((SELECT max(length(text)) FROM posts), (SELECT max(length(label)) "
                          "FROM topics), (SELECT max(length(author_handle)) FROM posts))").fetchone()[0]
    if not texts or (longest or 0) <= bound:
        return {"posts": 0, "parts": {}}
    quoted = [f'"{c}"' for c in texts]
    wide = " OR ".join(f"length({c}) > {EXCEL_CELL_LIMIT // 2}" for c in quoted)
    rows = con.execute(f"SELECT {', '.join(quoted)} FROM ({query}) WHERE {wide}").fetchall()
    parts: dict[str, int] = {}
    posts = 0
    for row in rows:
        over = {c: len(excel_parts(v)) for c, v in zip(texts, row) if v and excel_units(v) > EXCEL_CELL_LIMIT}
        posts += bool(over)
        for c, n in over.items():
            parts[c] = max(parts.get(c, 1), n)
    return {"posts": posts, "parts": parts}


def part_name(column: str, n: int) -> str:
    """The n-th (2, 3, ...) continuation column of ``column``."""
    return f"{column}_part{n}"


def _copy(con: duckdb.DuckDBPyConnection, query: str, path: Path, fmt: str) -> int:
    how = "FORMAT csv, HEADER" if fmt == "csv" else "FORMAT parquet, COMPRESSION zstd"
    result = con.execute(f"COPY ({query}) TO {sql_literal(str(path))} ({how})").fetchone()
    return int(result[0]) if result else 0


def _write_xlsx(con: duckdb.DuckDBPyConnection, query: str, columns: list[tuple[str, str]], long: dict,
                path: Path) -> tuple[int, list[tuple[str, str]]]:
    """Stream the rows into one sheet; return the row count and the columns as written."""
    from openpyxl import Workbook
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    total = con.execute(f"SELECT count(*) FROM ({query})").fetchone()[0]
    if total > XLSX_MAX_ROWS:
        raise ExportError(f"{total:,} posts do not fit in one Excel sheet ({XLSX_MAX_ROWS:,} rows "
                          "at most); export --format csv or parquet instead")
    split = [long["parts"].get(name, 1) for name, _ in columns]
    written = [(part_name(name, k) if k > 1 else name, dtype)
               for (name, dtype), n in zip(columns, split) for k in range(1, n + 1)]
    book = Workbook(write_only=True)
    sheet = book.create_sheet("posts")
    sheet.freeze_panes = "B2"
    sheet.append([name for name, _ in written])
    cursor = con.execute(query)
    rows = 0
    while batch := cursor.fetchmany(BATCH):
        for row in batch:  # control characters (other than tab, LF, CR) are not allowed in XLSX
            cells = [ILLEGAL_CHARACTERS_RE.sub("\ufffd", v) if isinstance(v, str) else v for v in row]
            sheet.append(_spread(cells, split) if long["parts"] else cells)
        rows += len(batch)
    book.save(path)
    return rows, written


def _spread(cells: list, split: list[int]) -> list:
    out = []
    for value, n in zip(cells, split):
        if n == 1:
            out.append(value)
            continue
        parts = excel_parts(value) if isinstance(value, str) else [value]
        out += parts + [None] * (n - len(parts))
    return out
