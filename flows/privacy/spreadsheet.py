"""Cells a spreadsheet program would run as formulas, neutralised in Python and in SQL.

One rule, :data:`FORMULA_STARTS`: a text cell that starts with
``=``, ``+``, ``-``, ``@``, a tab or a carriage return gets a leading ``'`` (and so does one
that already starts with ``'``, so that reading strips exactly one). Coding sheets apply it
cell by cell (:func:`neutralise`); dataset exports of a million rows apply the same rule
inside DuckDB (:func:`neutralise_sql`), and a test holds the two to the same answers.
"""

from __future__ import annotations

from typing import Any

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# Excel keeps at most 32,767 characters in a cell, counted as UTF-16 code units (an emoji
# outside the Basic Multilingual Plane is two); it cuts longer text when it opens a file.
EXCEL_CELL_LIMIT = 32_767


def neutralise(value: Any) -> Any:
    """Prefix ``'`` to text a spreadsheet would run as a formula (and to text starting with ``'``)."""
    if isinstance(value, str) and value.startswith((*FORMULA_STARTS, "'")):
        return "'" + value
    return value


def restore(value: str) -> str:
    """Undo :func:`neutralise`."""
    return value[1:] if value.startswith("'") else value


def excel_units(text: str) -> int:
    """The length of ``text`` as Excel counts it (UTF-16 code units)."""
    return len(text) + sum(1 for c in text if ord(c) > 0xFFFF)


def excel_parts(cell: str, limit: int = EXCEL_CELL_LIMIT) -> list[str]:
    """A neutralised cell cut into parts Excel holds whole: the first part as it starts, each
    continuation neutralised too (one fewer unit, room for its '), never inside a surrogate
    pair. ``"".join(restore(p) for p in parts)`` gives back ``restore(cell)``'s text."""
    parts, start = [], 0
    while True:
        room, units, end = limit - (1 if parts else 0), 0, start
        while end < len(cell) and units + 1 + (ord(cell[end]) > 0xFFFF) <= room:
            units += 1 + (ord(cell[end]) > 0xFFFF)
            end += 1
        parts.append(cell[start:end] if not parts else neutralise(cell[start:end]))
        if end >= len(cell):
            return parts
        start = end


def _sql_literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def neutralise_sql(expr: str) -> str:
    """An SQL expression giving ``expr`` (a VARCHAR) neutralised exactly as :func:`neutralise`."""
    starts = ", ".join(_sql_literal(c) for c in (*FORMULA_STARTS, "'"))
    return f"CASE WHEN left({expr}, 1) IN ({starts}) THEN '''' || {expr} ELSE {expr} END"
