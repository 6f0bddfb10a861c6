"""Writers: the document model as self-contained HTML, as Markdown, and its tables as CSV.

HTML goes through Jinja2 with autoescaping on, so every string from the data (post text,
handles, display names, codebook text, reject reasons) is escaped; the only markup inserted
as-is is the SVG of :mod:`flows.report.svg`, which escapes its own labels. The page carries a
Content-Security-Policy that allows no script, font, frame or network request at all.
Markdown escapes HTML and Markdown syntax in the same strings. CSV cells that a spreadsheet
would run as a formula are neutralised as in coding sheets.
"""

from __future__ import annotations

import csv
import io
import re
from functools import cache
from pathlib import Path
from typing import Any

from flows.privacy.spreadsheet import neutralise
from flows.report.doc import Figure, Heading, KeyValues, Note, Paragraph, Quotes, Section, Table, csv_value, display

TEMPLATES = Path(__file__).parent / "templates"
_MD_SPECIAL = re.compile(r"([\\`*_\[\]|~])")
_MD_LINE_START = re.compile(r"^(\s*)(>|[#+-](?=\s|$)|\d+(?=[.)](?:\s|$)))")


@cache
def _template():
    from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

    env = Environment(loader=FileSystemLoader(str(TEMPLATES)), autoescape=select_autoescape(["j2", "html"]),
                      undefined=StrictUndefined, keep_trailing_newline=True)
    return env.get_template("report.html.j2")


def html(sections: list[Section], *, title: str, meta: list[str], footer: str, max_rows: int,
         generator: str) -> str:
    """The whole report as one HTML page (no external resource of any kind)."""
    css = (TEMPLATES / "report.css").read_text(encoding="utf-8")

    def limit(table: Table) -> int:
        return max_rows if table.limit is None else table.limit

    from markupsafe import Markup

    return _template().render(sections=sections, title=title, meta=meta, footer=footer, css=Markup(css),
                              limit=limit, cell=display, generator=generator)


def md_escape(text: Any) -> str:
    """Text safe in Markdown: HTML characters as entities, Markdown syntax backslash-escaped, one line."""
    out = " ".join(str(text).split())
    out = out.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    out = _MD_SPECIAL.sub(r"\\\1", out)
    return _MD_LINE_START.sub(_line_start, out)


def _line_start(match: re.Match) -> str:
    """Escape a block marker at the start of a line: ``\\#``, ``\\>``, ``\\-``, or ``1\\.`` for a list number."""
    lead, marker = match.group(1), match.group(2)
    return lead + (marker + "\\" if marker[0].isdigit() else "\\" + marker)


def markdown(sections: list[Section], *, title: str, meta: list[str], footer: str, max_rows: int) -> str:
    """The report as Markdown, for pasting into a manuscript; figures point to their CSV."""
    lines = [f"# {md_escape(title)}", "", " · ".join(md_escape(m) for m in meta), ""]
    for n, section in enumerate(sections, start=1):
        lines += [f"## {n}. {md_escape(section.title)}", ""]
        for block in section.blocks:
            lines += _md_block(block, max_rows) + [""]
    lines += ["---", "", md_escape(footer), ""]
    return "\n".join(lines)


def _md_block(block, max_rows: int) -> list[str]:
    if isinstance(block, Paragraph):
        return [md_escape(block.text)]
    if isinstance(block, Note):
        return [f"> {md_escape(block.text)}"]
    if isinstance(block, Heading):
        return [f"### {md_escape(block.text)}"]
    if isinstance(block, KeyValues):
        head = [f"**{md_escape(block.title)}**", ""] if block.title else []
        return head + [f"- {md_escape(k)}: {md_escape(v)}" for k, v in block.items]
    if isinstance(block, Figure):
        data = f" Data: `tables/{block.data}.csv`." if block.data else ""
        return [f"*Figure: {md_escape(block.caption)}*{data} (The chart is in report.html.)"]
    if isinstance(block, Quotes):
        out = [f"**{md_escape(block.title)}**", ""]
        for q in block.quotes:
            out += [f"> {md_escape(q.text)}", f"> — {md_escape(q.byline)}", ""]
        return out[:-1]
    if isinstance(block, Table):
        return _md_table(block, max_rows)
    raise TypeError(f"no Markdown for {type(block).__name__}")


def _md_table(table: Table, max_rows: int) -> list[str]:
    if table.csv_only:
        return [f"{md_escape(table.caption)}: `tables/{table.name}.csv` ({table.row_count:,} rows)."]
    shown = table.rows[:max_rows if table.limit is None else table.limit]
    out = [f"**{md_escape(table.caption)}** (`tables/{table.name}.csv`)", "",
           "| " + " | ".join(md_escape(c.label) for c in table.shown_columns) + " |",
           "|" + "|".join("---" if c.kind in ("text", "key") else "---:" for c in table.shown_columns) + "|"]
    for row in shown:
        out.append("| " + " | ".join(md_escape(display(v, c.kind)) for v, c in zip(row, table.shown_columns)) + " |")
    if table.row_count > len(shown):
        out += ["", f"*{table.row_count - len(shown):,} more rows in the CSV.*"]
    if len(table.shown_columns) < len(table.columns):
        out += ["", f"*{len(table.columns) - len(table.shown_columns)} more columns in the CSV.*"]
    if table.note:
        out += ["", f"*{md_escape(table.note)}*"]
    return out


def csv_text(table: Table) -> str:
    """A table as CSV text (UTF-8, ``\\n`` line ends, header = column keys, every row kept)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow([c.key for c in table.columns])
    for row in table.rows:
        writer.writerow([neutralise(csv_value(v, c.kind)) if c.kind in ("text", "key") else csv_value(v, c.kind)
                         for v, c in zip(row, table.columns)])
    return buffer.getvalue()
