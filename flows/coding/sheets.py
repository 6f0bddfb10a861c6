"""Coding sheets as CSV or XLSX: written safe against formula injection, read back exactly.

Reading forgives what spreadsheet programs do to a CSV: a byte-order mark (UTF-8 or UTF-16),
a ``;`` or tab delimiter (Excel in many locales; sniffed from the header line, or taken from
Excel's ``sep=;`` first line) and Windows-1252 text (read as such, with a note saying so).

A text cell that starts with ``=``, ``+``, ``-``, ``@`` (or tab or carriage return) would be run
as a formula by a spreadsheet program, so it is written with a leading ``'``. A cell that
really starts with ``'`` gets one more, so reading strips exactly one ``'`` from any cell
that starts with it and gives back the original text.
"""

from __future__ import annotations

import codecs
import csv
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flows.errors import UserError
from flows.privacy.spreadsheet import neutralise, restore

SUFFIXES = (".csv", ".xlsx")
DELIMITERS = (",", ";", "\t", "|")
MAX_ROWS = 200_000  # a coding sheet longer than this is not a coding round (and would be read whole)


class SheetError(UserError):
    """The sheet cannot be read or written at all (wrong suffix, not a spreadsheet)."""


def column_letter(index: int) -> str:
    """Spreadsheet column name of a 0-based index: 0 -> A, 26 -> AA."""
    letters = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


def sheet_suffix(path: Path) -> str:
    suffix = Path(path).suffix.lower()
    if suffix not in SUFFIXES:
        raise SheetError(f"{path}: a coding sheet is a .csv or .xlsx file; rename it or "
                         "save it in one of those formats")
    return suffix


def write_sheet(path: Path, header: list[str], rows: list[list[Any]], *, suffix: str | None = None) -> Path:
    """Write a sheet (CSV as UTF-8 with a byte-order mark, so Excel reads accents; or XLSX).

    Characters an XLSX file cannot hold (control characters such as ``\\x0b``) become U+FFFD
    there; a CSV keeps them. ``suffix`` is the format when ``path`` is a temporary name.
    """
    path = Path(path)
    suffix = suffix or sheet_suffix(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    safe = [[neutralise(cell) for cell in row] for row in rows]
    if suffix == ".csv":
        with open(path, "w", newline="", encoding="utf-8-sig") as handle:
            writer = csv.writer(handle)
            writer.writerow(header)
            writer.writerows(safe)
        return path
    from openpyxl import Workbook
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
    from openpyxl.styles import Alignment, Font

    book = Workbook()
    sheet = book.active
    sheet.title = "coding"
    sheet.append(header)
    for row in safe:
        sheet.append(["" if cell is None else ILLEGAL_CHARACTERS_RE.sub("\ufffd", cell) if isinstance(cell, str)
                      else cell for cell in row])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    if "text" in header:  # long posts wrap instead of running across the code columns
        letter = column_letter(header.index("text"))
        sheet.column_dimensions[letter].width = 60
        for cell in sheet[letter][1:]:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
    sheet.freeze_panes = "B2"
    book.save(path)
    return path


def _cell_text(value: Any) -> str:
    """A cell as text: integral numbers without '.0', booleans as yes/no, None as ''."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


@dataclass
class Sheet:
    """A sheet read as text: its header, rows (padded to the header's width) and reading notes."""

    header: list[str]
    rows: list[list[str]]
    notes: list[str] = field(default_factory=list)  # how the file was read, when not plain UTF-8 CSV


def read_sheet(path: Path) -> tuple[list[str], list[list[str]]]:
    """Header and rows of a sheet, every cell as text with neutralising undone.

    Formulas are read as written (``=1+1``), never evaluated, so they fail validation
    instead of slipping through as their cached result.

    Raises:
        SheetError: missing file, wrong suffix, or a file that is not a readable sheet.
    """
    sheet = load_sheet(path)
    return sheet.header, sheet.rows


def load_sheet(path: Path) -> Sheet:
    """:func:`read_sheet` with the notes on how the file was read (encoding, delimiter)."""
    path = Path(path)
    suffix = sheet_suffix(path)
    if not path.is_file():
        raise SheetError(f"{path}: no such file; check the path")
    notes: list[str] = []
    try:
        raw = _read_csv(path, notes) if suffix == ".csv" else _read_xlsx(path)
    except csv.Error as exc:
        raise SheetError(f"{path}: cannot read the CSV ({exc}); save it as UTF-8 CSV") from None
    except SheetError:
        raise
    except Exception as exc:  # openpyxl raises several kinds for a damaged or wrong file
        if suffix == ".csv":
            raise
        raise SheetError(f"{path}: not a readable .xlsx workbook ({exc}); save it again "
                         "from your spreadsheet program as .xlsx") from None
    while raw and not any(_cell_text(v).strip() for v in raw[0]):
        raw = raw[1:]  # blank lines above the header
    if not raw:
        raise SheetError(f"{path}: the sheet is empty; it needs a header row with post_id")
    cells = [[restore(_cell_text(v)) for v in row] for row in raw]
    width = max(len(row) for row in cells)
    cells = [row + [""] * (width - len(row)) for row in cells]
    return Sheet(cells[0], cells[1:], notes)


def _bounded(rows, path: Path) -> list[list[Any]]:
    """The rows, refusing a sheet longer than any coding round (a sheet is read whole)."""
    out = []
    for row in rows:
        if len(out) > MAX_ROWS:
            raise SheetError(f"{path}: more than {MAX_ROWS:,} rows; a coding sheet is one round of posts. "
                             "Import the rounds' sheets one by one")
        out.append(list(row))
    return out


def _decode(path: Path, notes: list[str]) -> str:
    """The file's text: UTF-8 (with or without a byte-order mark), UTF-16 with its mark, else
    Windows-1252 (what Excel's plain "CSV" writes on Windows), said in a note."""
    data = path.read_bytes()
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        notes.append("read as UTF-16 (Excel's 'Unicode text')")
        return data.decode("utf-16")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            text = data.decode("cp1252")
        except UnicodeDecodeError:
            raise SheetError(f"{path}: not UTF-8 text; save it as 'CSV UTF-8' from your spreadsheet "
                             "program") from None
        notes.append("not UTF-8: read as Windows-1252; check accented names (or save as 'CSV UTF-8')")
        return text


def _delimiter(lines: list[str], notes: list[str]) -> tuple[str, list[str]]:
    """The delimiter (Excel's ``sep=`` line, else the one that splits the header most) and the
    lines without a ``sep=`` line."""
    first = lines[0].strip() if lines else ""
    if first.lower().startswith("sep=") and len(first) == 5:
        notes.append(f"delimiter {first[4]!r} (the file's sep= line)")
        return first[4], lines[1:]
    header = next((line for line in lines if line.strip()), "")
    counts = {d: len(next(csv.reader([header], delimiter=d), [])) for d in DELIMITERS}
    best = max(DELIMITERS, key=lambda d: (counts[d], -DELIMITERS.index(d)))
    if best != "," and counts[best] > counts[","]:
        notes.append(f"delimiter {best!r} (sniffed from the header)")
        return best, lines
    return ",", lines


def _read_csv(path: Path, notes: list[str]) -> list[list[Any]]:
    text = _decode(path, notes)
    lines = text.splitlines(keepends=True)
    delimiter, lines = _delimiter(lines, notes)
    return _bounded(csv.reader(lines, delimiter=delimiter), path)


def _read_xlsx(path: Path) -> list[list[Any]]:
    """The first sheet's cells; a macro-enabled workbook or a zip bomb is refused before it is opened."""
    from openpyxl import load_workbook

    from flows.privacy.untrusted import UntrustedFileError, open_zip

    try:
        with open_zip(path, "coding sheet") as archive:
            if any(n.lower().endswith("vbaproject.bin") for n in archive.namelist()):
                raise SheetError(f"{path}: the workbook carries macros (vbaProject.bin); coding sheets never do. "
                                 "Save it again as a plain .xlsx workbook")
    except UntrustedFileError as exc:
        raise SheetError(str(exc)) from None
    book = load_workbook(path, read_only=True, data_only=False)
    try:
        return _bounded(book.worksheets[0].iter_rows(values_only=True), path)
    finally:
        book.close()
