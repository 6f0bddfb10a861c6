"""A codebook for another program: a REFI-QDA ``.qdc``, or a Taguette codebook CSV.

Taguette 1.5 imports codebooks only as CSV (``taguette/import_codebook.py``): a header with one
of ``tag``, ``name`` or ``path`` and optionally ``description``; the encoding is guessed with
chardet; a tag path is at most 200 characters (``validate.tag_path``) and unique in a project
(a repeated one is imported once). Taguette has no code tree and no codes that cannot be
applied, but its tag view shows every tag whose path starts with the one clicked
(``web/api.py``). So ``taguette-csv`` writes one row per assignable code, its path the labels
of its ancestors and its own joined with ``.`` (``Access.Access to information``), its
description the code's definition, criteria, examples and ethnoflow id, as in the ``.qdc``.
The file is UTF-8 with a byte-order mark, which chardet reads for certain; short ASCII-heavy
files are otherwise open to a wrong guess.
"""

from __future__ import annotations

import csv
from pathlib import Path

from flows.coding.codebook import Codebook, iter_codes
from flows.export.paths import ExportError, atomic_outputs
from flows.export.refiqda.codebook_xml import describe

CODEBOOK_FORMATS = ("qdc", "taguette-csv")
TAGUETTE_SEP = "."
TAGUETTE_MAX_PATH = 200  # taguette.validate.tag_path
TAGUETTE_MAX_DESCRIPTION = 102_400  # taguette.validate.description


def taguette_rows(codebook: Codebook) -> list[tuple[str, str]]:
    """(tag path, description) per assignable code, in codebook order.

    Raises:
        ExportError: a path or description Taguette would refuse, naming the code and the fix.
    """
    rows, seen = [], set()
    nodes = list(iter_codes(codebook))
    labels = {n.code.id: " ".join(n.code.label.split()) for n in nodes}
    for node in nodes:
        if not node.code.assignable:
            continue
        path = TAGUETTE_SEP.join(labels[i] for i in node.path)
        if path in seen:  # two codes with one label under one parent
            path = f"{path} ({node.code.id})"
        seen.add(path)
        description = describe(node.code)
        if len(path) > TAGUETTE_MAX_PATH:
            raise ExportError(f"code '{node.code.id}': its Taguette tag '{path[:60]}…' has {len(path)} characters; "
                              f"Taguette takes at most {TAGUETTE_MAX_PATH}: shorten its label or its ancestors'")
        if len(description) > TAGUETTE_MAX_DESCRIPTION:
            raise ExportError(f"code '{node.code.id}': its description has {len(description):,} characters; "
                              f"Taguette takes at most {TAGUETTE_MAX_DESCRIPTION:,}: shorten its examples")
        rows.append((path, description))
    return rows


def write_taguette_csv(codebook: Codebook, path: Path) -> int:
    """Write the Taguette codebook CSV to ``path``; return the number of tags."""
    rows = taguette_rows(codebook)
    with open(path, "w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["tag", "description"])
        writer.writerows(rows)
    return len(rows)


def write_codebook(codebook: Codebook, out: str | Path, fmt: str, *, force: bool = False) -> dict:
    """Write ``codebook`` for another program.

    Args:
        codebook: the codebook (the store's current version, or read from its YAML).
        out: the file to write.
        fmt: ``qdc`` (REFI-QDA: NVivo, ATLAS.ti, MAXQDA, QualCoder) or ``taguette-csv``.
        force: replace an existing file.

    Returns:
        ``{"format", "files", "codes"}``: codes written (Taguette: tags, assignable codes only).
    """
    if fmt not in CODEBOOK_FORMATS:
        raise ExportError(f"unknown codebook --format {fmt!r}; use one of {', '.join(CODEBOOK_FORMATS)}")
    out = Path(out)
    with atomic_outputs([out], force=force) as (tmp,):
        if fmt == "qdc":
            from flows.export.refiqda.codebook_xml import write_qdc

            write_qdc(codebook, tmp)
            codes = sum(1 for _ in iter_codes(codebook))
        else:
            codes = write_taguette_csv(codebook, tmp)
    return {"format": fmt, "files": [str(out)], "codes": codes, "codebook": codebook.id}
