"""A codebook as a REFI-QDA code tree (inside a project, or alone as a ``.qdc`` file).

Each code is a ``<Code>`` with its label as name (unique in the tree: see :func:`code_names`),
``isCodable`` = assignable, and a ``<Description>`` carrying what a coder in another program
needs: the definition, then the inclusion and exclusion criteria and the example posts under
fixed headings, and a last line ``(ethnoflow id: <code id>)`` so that importing the file back
keeps the code ids.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections import Counter
from pathlib import Path

from flows.coding.codebook import Code, Codebook
from flows.export.refiqda.guids import code_guid
from flows.export.refiqda.xml import CODEBOOK_NS, element, to_bytes

SECTIONS = (("inclusion", "Include when:"), ("exclusion", "Exclude when:"),
            ("positive", "Examples that apply:"), ("negative", "Examples that do not apply:"))
PATH_SEP = " › "
ID_LINE = re.compile(r"\n*\(ethnoflow id: ([a-z][a-z0-9_]*)\)\s*$")


def describe(code: Code) -> str:
    """A code's REFI description: definition, criteria, examples, and its ethnoflow id."""
    parts = [" ".join((code.definition or "").split())]
    lists = {"inclusion": code.inclusion, "exclusion": code.exclusion,
             "positive": code.examples.positive if code.examples else [],
             "negative": code.examples.negative if code.examples else []}
    for key, heading in SECTIONS:
        if lists[key]:
            parts.append(heading + "\n" + "\n".join(f"- {' '.join(x.split())}" for x in lists[key]))
    parts.append(f"(ethnoflow id: {code.id})")
    return "\n\n".join(parts)


def parse_description(text: str | None) -> dict:
    """Undo :func:`describe`: ``{"definition", "inclusion", ... , "id"}`` (keys present when found).

    A description written by another program is all definition.
    """
    text = (text or "").replace("\r\n", "\n").strip()
    out: dict = {}
    found = ID_LINE.search(text)
    if found:
        out["id"], text = found.group(1), text[:found.start()].rstrip()
    headings = {h: k for k, h in SECTIONS}
    blocks = re.split(r"\n\n(?=(?:" + "|".join(re.escape(h) for h in headings) + r")\n)", text)
    out["definition"] = blocks[0].strip()
    for block in blocks[1:]:
        heading, _, body = block.partition("\n")
        items = [line[2:].strip() for line in body.split("\n") if line.startswith("- ")]
        out[headings[heading]] = items
    return out


def code_names(codes: list[Code]) -> dict[str, str]:
    """Code id -> a name unique in the whole tree: the label, or, where labels repeat,
    ``Parent › Label`` (then the code id). QualCoder keeps one code (and one category) per name
    and would merge the codings of two codes that share one."""
    paths: dict[str, list[str]] = {}
    stack = [(c, []) for c in reversed(codes)]
    while stack:
        code, trail = stack.pop()
        paths[code.id] = [*trail, code.label]
        stack += [(c, paths[code.id]) for c in reversed(code.children)]
    labels = Counter(p[-1] for p in paths.values())
    names = {i: p[-1] if labels[p[-1]] == 1 else PATH_SEP.join(p[-2:]) for i, p in paths.items()}
    taken = Counter(names.values())
    return {i: n if taken[n] == 1 else f"{n} ({i})" for i, n in names.items()}


def code_elements(parent: ET.Element, codes: list[Code], codebook_id: str,
                  names: dict[str, str] | None = None, notes: dict[str, list[str]] | None = None,
                  validation: dict[str, list[str]] | None = None) -> None:
    """Append ``<Code>`` elements for ``codes`` and their children, in codebook order; ``notes``
    maps a code's GUID to the GUIDs of the memos about it (``<NoteRef>``); ``validation`` maps a
    code id to lines on its machine values (the validation gate's verdicts), written after the id
    line so that reading the description back leaves them out of the codebook."""
    names = names if names is not None else code_names(codes)
    for code in codes:
        cg = code_guid(codebook_id, code.id)
        node = element(parent, "Code", {"guid": cg, "name": names[code.id],
                                        "isCodable": "true" if code.assignable else "false"})
        lines = (validation or {}).get(code.id, [])
        element(node, "Description", text="\n\n".join([describe(code), *lines]))
        for note in (notes or {}).get(cg, []):
            element(node, "NoteRef", {"targetGUID": note})
        code_elements(node, code.children, codebook_id, names, notes, validation)


def qdc_bytes(codebook: Codebook, origin: str) -> bytes:
    """The ``.qdc`` document (``urn:QDA-XML:codebook:1.0``) of a codebook."""
    root = element(None, "CodeBook", {"origin": origin})
    code_elements(element(root, "Codes"), codebook.codes, codebook.id)
    return to_bytes(root, CODEBOOK_NS)


def origin() -> str:
    """``ethnoflow <version>``: the origin attribute of everything ethnoflow writes."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return f"ethnoflow {version('ethnoflow')}"
    except PackageNotFoundError:
        return "ethnoflow"


def write_qdc(codebook: Codebook, path: Path) -> Path:
    """Write a codebook as a REFI-QDA ``.qdc`` file (to ``path``, which may be a temporary name)."""
    Path(path).write_bytes(qdc_bytes(codebook, origin()))
    return Path(path)
