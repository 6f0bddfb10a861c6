"""Another program's codebook (a ``.qdc``, or the one inside a ``.qdpx``) as ``coding_schemes/*.yaml``.

The code tree, names and descriptions are kept: each code's name is its label, its
description its definition (ethnoflow's own exports also bring back their criteria, examples
and code ids). Code ids are made from the names (ASCII, lower case, ``_``; unique). The result
must pass :func:`flows.coding.codebook.load_codebook`. What the REFI format cannot carry (criteria,
example posts, a citation) is left out, not made up: the codebook is written as
``status: draft``, which human coders can use and machine coders refuse until the researcher
completes it; a comment at the top of the file lists what is missing. ethnoflow codebooks nest at
most three levels: codes deeper than that are lifted beside their third-level ancestor, with
their full path as label (``Parent › Child``), and counted in the result.
"""

from __future__ import annotations

import re
import tempfile
import unicodedata
from pathlib import Path

import yaml

from flows.coding.codebook import MAX_DEPTH, SLUG_RE, CodebookError, load_codebook
from flows.export.paths import atomic_outputs
from flows.export.refiqda.codebook_xml import PATH_SEP, parse_description
from flows.export.refiqda.reader import RefiCode, RefiError, read_refi


def slug(name: str, fallback: str = "code") -> str:
    """An id from a name: ASCII, lower case, ``_`` between words, starting with a letter."""
    ascii_ = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    out = re.sub(r"[^a-z0-9]+", "_", ascii_.lower()).strip("_")
    return out if re.match(SLUG_RE, out) else f"{fallback}_{out}".rstrip("_")


class _Builder:
    def __init__(self, source: str) -> None:
        self.source, self.ids, self.lifted, self.incomplete = source, set(), 0, 0

    def unique(self, wanted: str) -> str:
        out, n = wanted, 2
        while out in self.ids:
            out, n = f"{wanted}_{n}", n + 1
        self.ids.add(out)
        return out

    def entry(self, code: RefiCode, label: str, leaf: bool) -> dict:
        parsed = parse_description(code.description)
        known = parsed.get("id")
        entry = {"id": self.unique(known if known and known not in self.ids else slug(code.name)),
                 "label": label.strip() or "(unnamed code)"}
        if parsed["definition"]:
            entry["definition"] = parsed["definition"]
        assignable = leaf or code.codable
        if not leaf:
            entry["assignable"] = assignable
        if assignable:
            for key in ("inclusion", "exclusion"):
                if parsed.get(key):
                    entry[key] = parsed[key]
            if parsed.get("positive") and parsed.get("negative"):
                entry["examples"] = {"positive": parsed["positive"], "negative": parsed["negative"]}
            entry["rule_coverage"] = "semantic"  # no rules yet
            wanted = ("definition", "inclusion", "exclusion", "examples")
            self.incomplete += any(k not in entry for k in wanted)
        return entry

    def convert(self, code: RefiCode, depth: int) -> list[dict]:
        """YAML codes for ``code``: itself with its children, or, at the last level, itself and
        its lifted descendants beside it."""
        if depth < MAX_DEPTH or not code.children:
            entry = self.entry(code, code.name, leaf=not code.children)
            if code.children:
                entry["children"] = [e for c in code.children for e in self.convert(c, depth + 1)]
            return [entry]
        out = [self.entry(code, code.name, leaf=True)]
        stack = [(c, [code.name]) for c in reversed(code.children)]
        while stack:
            node, trail = stack.pop()
            self.lifted += 1
            out.append(self.entry(node, PATH_SEP.join([*trail, node.name]), leaf=True))
            stack += [(c, [*trail, node.name]) for c in reversed(node.children)]
        return out


def codebook_data(path: Path, codebook_id: str) -> tuple[dict, dict]:
    """The YAML document for a REFI codebook, and a summary (codes, lifted, TODOs)."""
    project = read_refi(path)
    if not project.codes:
        raise RefiError(f"{path}: holds no codes; export the codebook (or the project) again with its codes")
    builder = _Builder(Path(path).name)
    codes = [e for c in project.codes for e in builder.convert(c, 1)]
    made_by = project.origin or "an unnamed program"
    title = project.name if project.name and project.name.lower() not in ("untitled", "") else Path(path).stem
    data = {
        "id": codebook_id, "title": f"{title} (imported)", "version": "1", "status": "draft",
        "description": f"Imported from {Path(path).name} (made by {made_by}) with ethnoflow codebook import: "
                       f"{sum(1 for _ in project.iter_codes())} codes, names and descriptions as in the source.",
        "codes": codes,
    }
    return data, {"codes": sum(1 for _ in project.iter_codes()), "lifted": builder.lifted,
                  "incomplete": builder.incomplete}


def _header(source: str, summary: dict) -> str:
    lines = [f"# Imported from {source} by `ethnoflow codebook import`: a draft.",
             "# REFI-QDA carries a name, a description and a place in the tree for each code;",
             f"# {summary['incomplete']} codes lack a definition, criteria (inclusion, exclusion) or invented",
             "# example posts, and there is no citation. Human coders can use the draft as it is; before",
             "# machine coding, add those (and rules: keywords, hashtags, patterns, where they help), cite",
             "# the codebook's source, and set 'status: final'."]
    if summary["lifted"]:
        lines.append(f"# {summary['lifted']} codes nested deeper than {MAX_DEPTH} levels were lifted beside "
                     f"their level-{MAX_DEPTH} ancestor; their labels keep the full path ('A{PATH_SEP}B').")
    return "\n".join(lines) + "\n"


def import_codebook(path: str | Path, out: str | Path | None = None, *, force: bool = False) -> dict:
    """Write another program's codebook as a valid ``coding_schemes/<id>.yaml``.

    Args:
        path: a ``.qdc`` codebook or a ``.qdpx`` project.
        out: the YAML file (its name is the codebook id); default ``coding_schemes/<file stem>.yaml``.
        force: replace an existing file.

    Returns:
        ``{"file", "id", "codes", "lifted", "incomplete"}`` (codes lacking what machine coding needs).
    """
    path = Path(path)
    out = Path(out) if out else Path("coding_schemes") / f"{slug(path.stem, 'codebook')}.yaml"
    if not re.match(SLUG_RE, out.stem) or out.suffix != ".yaml":
        raise RefiError(f"{out}: a codebook file is named <id>.yaml, the id in lower-case letters, digits "
                        f"and _ (starting with a letter); e.g. --out coding_schemes/{slug(out.stem, 'codebook')}.yaml")
    data, summary = codebook_data(path, out.stem)
    text = _header(path.name, summary) + yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100)
    with tempfile.TemporaryDirectory() as scratch:  # validated under its real name before it lands
        check = Path(scratch) / out.name
        check.write_text(text, encoding="utf-8")
        try:
            load_codebook(check)
        except CodebookError as exc:  # a bug here, not the user's: say so plainly
            raise RefiError(f"{path}: the converted codebook does not validate (please report this):\n{exc}") from None
    with atomic_outputs([out], force=force) as (tmp,):
        tmp.write_text(text, encoding="utf-8")
    return {"file": str(out), "id": out.stem, **summary}
