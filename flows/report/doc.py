"""The report as a small document model that the HTML, Markdown and CSV writers all render.

Section builders return plain data: paragraphs, notes, tables, figures (SVG), quoted posts and
key-value lists. Text in these blocks is raw (never pre-escaped); each writer escapes it for
its own format, so no builder can forget to. Only :class:`Figure` carries markup, produced by
:mod:`flows.report.svg`, which escapes every label it draws.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Literal, Union

Kind = Literal["text", "key", "int", "pct", "num", "ci"]  # key: short text that never wraps (a month)


@dataclass(frozen=True)
class Column:
    """A table column: CSV header ``key``, display ``label`` and how its values are formatted."""

    key: str
    label: str
    kind: Kind = "text"


@dataclass
class Table:
    """A table; the HTML and Markdown show ``max_rows`` rows, the CSV ``tables/<name>.csv`` all rows.

    ``total`` counts the rows that exist when a query kept only the first ones (it is then
    larger than ``len(rows)``), so a reader always learns that more exist.
    """

    name: str
    caption: str
    columns: list[Column]
    rows: list[list[Any]]
    total: int | None = None
    note: str | None = None
    limit: int | None = None  # rows shown in HTML and Markdown; None: the report's max_rows
    row_classes: list[str] | None = None  # HTML only: "domain" rows are bold, "subcode" indented
    csv_only: bool = False  # shown elsewhere (quotes): HTML and Markdown only point to the CSV
    max_columns: int | None = None  # columns shown in HTML and Markdown (the CSV has all)

    @property
    def shown_columns(self) -> list[Column]:
        """The columns HTML and Markdown show."""
        return self.columns if self.max_columns is None else self.columns[:self.max_columns]

    @property
    def row_count(self) -> int:
        """Rows that exist (not only the rows kept)."""
        return self.total if self.total is not None else len(self.rows)


@dataclass
class Paragraph:
    text: str


@dataclass
class Note:
    """A plain statement that something is missing or how to read what follows."""

    text: str
    kind: Literal["empty", "info"] = "info"


@dataclass
class Figure:
    """An SVG figure (markup from :mod:`flows.report.svg`) and the table holding its data."""

    svg: str
    caption: str
    data: str | None = None  # name of the table with the figure's numbers


@dataclass
class Quote:
    """A quoted post: its (masked or pseudonymised) text and who/when/what."""

    text: str
    byline: str


@dataclass
class Quotes:
    title: str
    quotes: list[Quote]


@dataclass
class KeyValues:
    title: str | None
    items: list[tuple[str, str]]


@dataclass
class Heading:
    """A sub-heading inside a section (a codebook, a topic run)."""

    text: str
    anchor: str


Block = Union[Paragraph, Note, Table, Figure, Quotes, KeyValues, Heading]


@dataclass
class Section:
    """A numbered report section; ``status`` is ``empty`` when its data do not exist yet."""

    id: str
    title: str
    blocks: list[Block] = field(default_factory=list)
    status: Literal["ok", "empty"] = "ok"

    def tables(self) -> list[Table]:
        return [b for b in self.blocks if isinstance(b, Table)]


def fmt_int(value: Any) -> str:
    """12,345 (thousands separated); missing is an en dash."""
    return "–" if value is None else f"{int(value):,}"


def fmt_pct(value: Any, digits: int = 1) -> str:
    """A percentage (given in percent): 12.3%."""
    return "–" if value is None or not math.isfinite(value) else f"{value:.{digits}f}%"


def fmt_num(value: Any, digits: int = 2) -> str:
    """A statistic: 0.73; undefined ones read n/a."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "n/a"
    return f"{value:.{digits}f}" if isinstance(value, float) else str(value)


def fmt_ci(value: Any) -> str:
    """A 95% interval [lo, hi]; none reads n/a."""
    if not value or value[0] is None or value[1] is None:
        return "n/a"
    return f"[{value[0]:.2f}, {value[1]:.2f}]"


def display(value: Any, kind: Kind) -> str:
    """How a cell reads in HTML and Markdown."""
    if kind == "int":
        return fmt_int(value)
    if kind == "pct":
        return fmt_pct(value)
    if kind == "num":
        return fmt_num(value)
    if kind == "ci":
        return fmt_ci(value)
    return "–" if value is None else str(value)


def csv_value(value: Any, kind: Kind) -> Any:
    """How a cell is written to CSV: numbers as numbers (rounded so bytes are stable)."""
    if value is None:
        return ""
    if kind == "ci":
        return fmt_ci(value) if value else ""
    if isinstance(value, float):
        return repr(round(value, 6)) if math.isfinite(value) else ""
    return value


def pct(part: int | float, whole: int | float) -> float | None:
    """100 * part / whole, rounded to 4 decimals; None when whole is 0."""
    return round(100.0 * part / whole, 4) if whole else None
