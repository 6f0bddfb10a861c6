"""The data dictionary written beside every tabular export (``<name>.dictionary.md`` and ``.json``).

It describes every column, every code (its definition, criteria and place in the codebook),
and what made the file: codebook hash, study hash, coder, topic run, the sources' hashes,
package versions and the export options. It holds no clock time, so the same store and
options give byte-identical dictionaries.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import duckdb

from flows.export.paths import sidecar
from flows.export.selection import ExportOptions, Selection
from flows.export.table import COLUMNS, code_column

NEUTRALISED = ("Text cells that begin with =, +, -, @, a tab, a carriage return or ' carry one extra "
               "leading ' so spreadsheet programs do not run them as formulas; remove exactly one "
               "leading ' to recover the original text.")
PART = re.compile(r"^(?P<column>.+)_part(?P<n>[0-9]+)$")


def excel_note(fmt: str, excel: dict | None) -> str | None:
    """What the file does with texts longer than an Excel cell holds (32,767 characters)."""
    if excel is None:
        return None
    posts, parts = excel["posts"], excel["parts"]
    if fmt == "xlsx" and posts:
        columns = ", ".join(f"`{c}` into {n} columns" for c, n in parts.items())
        return (f"{posts} posts have a text longer than an Excel cell holds (32,767 characters): split, "
                f"{columns} ({', '.join(c + '_part2' for c in parts)}...). Rebuild a text by removing the formula "
                "guard from each part and joining the parts in order.")
    if posts:
        return (f"{posts} posts have a text longer than an Excel cell holds (32,767 characters). This CSV keeps "
                "them whole, but Excel cuts them when it opens the file; read it with R or pandas, or export "
                "--format xlsx, which splits them into continuation columns.")
    return "No text is longer than an Excel cell holds (32,767 characters)."


def dictionary_files(out: Path) -> tuple[Path, Path]:
    """The Markdown and JSON dictionary paths for the dataset ``out``."""
    return sidecar(out, ".dictionary.md"), sidecar(out, ".dictionary.json")


def provenance(con: duckdb.DuckDBPyConnection) -> dict:
    """Package versions and a digest of every source file the store was built from."""
    from importlib.metadata import PackageNotFoundError, version

    versions = {}
    for package in ("ethnoflow", "duckdb", "pyarrow", "openpyxl"):
        try:
            versions[package] = version(package)
        except PackageNotFoundError:
            versions[package] = None
    shas = [r[0] for r in con.execute("SELECT sha256 FROM sources ORDER BY sha256").fetchall()]
    digest = hashlib.sha256("\n".join(shas).encode("ascii")).hexdigest()
    return {"versions": versions, "sources": len(shas), "sources_sha256": digest}


def describe_codes(selection: Selection) -> list[dict]:
    """One entry per code column: the code's place, label, definition and criteria."""
    cb = selection.codebook
    return [{"column": code_column(cb.id, n.code.id), "codebook": cb.id, "code": n.code.id,
             "path": "/".join(n.path), "label": n.code.label, "definition": " ".join((n.code.definition or "").split()),
             "inclusion": n.code.inclusion, "exclusion": n.code.exclusion}
            for n in selection.codes]


def build(con: duckdb.DuckDBPyConnection, out: Path, columns: list[tuple[str, str]], rows: int,
          selection: Selection, options: ExportOptions, excel: dict | None = None) -> dict:
    """The dictionary as a JSON-ready document."""
    codes = {c["column"]: c for c in describe_codes(selection)} if selection.codebook else {}
    _mark_validation(con, selection, codes)
    described = []
    for name, dtype in columns:
        if name in codes:
            text = f"1 if coded '{codes[name]['label']}', 0 if not; empty where not coded. " \
                   f"{codes[name]['definition']} Validation: {codes[name]['validation']}."
        elif PART.match(name) and PART.match(name)["column"] in COLUMNS:
            text = f"Part {PART.match(name)['n']} of `{PART.match(name)['column']}` where it is longer than an " \
                   "Excel cell holds; empty otherwise."
        else:
            text = COLUMNS.get(name, "")
        described.append({"name": name, "type": dtype, "description": text})
    cb = selection.codebook
    return {
        "dataset": out.name, "format": options.fmt, "rows": rows,
        "study_hash": options.study_hash,
        "codebook": None if cb is None else {
            "id": cb.id, "title": cb.title, "version": cb.version, "content_hash": selection.content_hash,
            "citation": [c.model_dump(exclude_none=True) for c in cb.citation]},
        "coder": selection.coders[0] if selection.coders else None,
        "topic_run": selection.run_id,
        "options": {"pseudonymized": options.pseudonymize, "urls_removed": options.remove_urls,
                    "text_included": not options.no_text},
        "formula_guard": NEUTRALISED if options.fmt in ("csv", "xlsx") else None,
        "excel_cell_limit": None if excel is None else {
            "limit": 32767, "posts_over": excel["posts"], "split_into": excel["parts"] if options.fmt == "xlsx" else {},
            "note": excel_note(options.fmt, excel)},
        "provenance": provenance(con),
        "columns": described,
        "codes": list(codes.values()),
    }


def _mark_validation(con: duckdb.DuckDBPyConnection, selection: Selection, codes: dict[str, dict]) -> None:
    """Each code's validation-gate verdict (flows.coding.gate) for the exported coder, in words."""
    from flows.coding import gate

    coder = selection.coders[0] if selection.coders else None
    verdicts = gate.verdicts(con, selection.content_hash, [c["code"] for c in codes.values()], coder or "")
    for entry in codes.values():
        entry["validation"] = gate.mark(coder, verdicts[entry["code"]])


def write_dictionary(con: duckdb.DuckDBPyConnection, md_path: Path, json_path: Path, out: Path,
                     columns: list[tuple[str, str]], rows: int, selection: Selection,
                     options: ExportOptions, *, excel: dict | None = None) -> dict:
    """Write both dictionary files (to the paths given, which may be temporary names).

    ``excel``: for CSV and XLSX, the texts longer than an Excel cell (see
    :func:`flows.export.tabular.long_cells`).
    """
    doc = build(con, out, columns, rows, selection, options, excel)
    json_path.write_text(json.dumps(doc, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    md_path.write_text(markdown(doc), encoding="utf-8")
    return doc


def _cell(text) -> str:
    return str("" if text is None else text).replace("|", "\\|").replace("\n", " ")


def markdown(doc: dict) -> str:
    """The dictionary for people: what the file is, then a table of columns, then the codes."""
    cb = doc["codebook"]
    lines = [f"# Data dictionary: {doc['dataset']}", "",
             f"- rows: {doc['rows']} (one per post), format: {doc['format']}",
             f"- codebook: {cb['id']} v{cb['version']} ({cb['title']}), content hash `{cb['content_hash']}`"
             if cb else "- codebook: none (no code columns)",
             f"- coder: {doc['coder'] or 'none'}; topic run: {doc['topic_run'] or 'none'}",
             f"- study hash: {doc['study_hash'] or 'none recorded'}",
             f"- sources: {doc['provenance']['sources']} files, digest `{doc['provenance']['sources_sha256']}`",
             "- made with " + ", ".join(f"{k} {v}" for k, v in doc["provenance"]["versions"].items() if v),
             f"- pseudonymised: {'yes' if doc['options']['pseudonymized'] else 'no'}; "
             f"texts: {'included' if doc['options']['text_included'] else 'left out'}"]
    if doc["formula_guard"]:
        lines += ["", doc["formula_guard"]]
    if doc["excel_cell_limit"]:
        lines += ["", doc["excel_cell_limit"]["note"]]
    lines += ["", "## Columns", "", "| column | type | meaning |", "|---|---|---|"]
    lines += [f"| `{c['name']}` | {c['type']} | {_cell(c['description'])} |" for c in doc["columns"]]
    if doc["codes"]:
        lines += ["", "## Codes", ""]
        for code in doc["codes"]:
            lines += [f"### `{code['column']}`: {code['label']}", "", f"Path: {code['path']}", "",
                      code["definition"], ""]
            lines += [f"- include: {x}" for x in code["inclusion"]]
            lines += [f"- exclude: {x}" for x in code["exclusion"]]
            lines.append("")
    return "\n".join(lines).rstrip() + "\n"
