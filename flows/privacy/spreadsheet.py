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


def neutralise(value: Any) -> Any:
    """Prefix ``'`` to text a spreadsheet would run as a formula (and to text starting with ``'``)."""
    if isinstance(value, str) and value.startswith((*FORMULA_STARTS, "'")):
        return "'" + value
    return value


def restore(value: str) -> str:
    """Undo :func:`neutralise`."""
    return value[1:] if value.startswith("'") else value


def _sql_literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def neutralise_sql(expr: str) -> str:
    """An SQL expression giving ``expr`` (a VARCHAR) neutralised exactly as :func:`neutralise`."""
    starts = ", ".join(_sql_literal(c) for c in (*FORMULA_STARTS, "'"))
    return f"CASE WHEN left({expr}, 1) IN ({starts}) THEN '''' || {expr} ELSE {expr} END"
