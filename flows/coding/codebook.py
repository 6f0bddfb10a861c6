"""Codebooks: the YAML format for qualitative codes, its validation, content hash and discovery.

A codebook is one YAML file named ``<id>.yaml`` in a ``coding_schemes/`` directory. Loading reports
every problem at once, one line each, in the form
``<file>: [codes -> access -> information -> keywords] <message>; <fix>``. The format, with an
annotated example, is described in ``coding_schemes/README.md``.

Rule matching (``compile_rules``, ``rule_hits``) lives in :mod:`flows.coding.rules` and is
re-exported here; message formatting lives in :mod:`flows.study.config`.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    StringConstraints,
    ValidationError,
    ValidationInfo,
    model_validator,
)

from flows.coding.rules import rule_hits
from flows.errors import UserError
from flows.provenance import canonical, digest
from flows.study.config import Loc, describe, describe_value, human_path, read_yaml

MAX_DEPTH = 3  # domain -> code -> sub-code
SLUG_RE = r"^[a-z][a-z0-9_]*$"
DOI_RE = r"^10\.\d{4,9}/\S+$"
URL_RE = r"^https?://\S+$"
HASHTAG_RE = r"^#\w+$"
README = "coding_schemes/README.md"
_PATTERN_FIXES = {
    SLUG_RE: "use lowercase letters, digits and underscores, starting with a letter",
    DOI_RE: "write the bare DOI, e.g. 10.1007/s11606-015-3345-z (no https://doi.org/)",
    URL_RE: "write a full address starting with https://",
    HASHTAG_RE: "write the hashtag as #Word, with no spaces or punctuation",
}


class CodebookError(UserError):
    """All problems found in a codebook; ``str()`` gives one problem per line."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(self.problems))


def _not_blank(value: str, info: ValidationInfo) -> str:
    if not value.strip():
        name = info.field_name or "value"
        fix = {"definition": "write in a sentence or two what the code means",
               "label": "write a short name for the code"}.get(name, "write it or delete the entry")
        raise ValueError(f"{name} is empty; {fix}")
    return value


def _compiles(value: str) -> str:
    try:
        re.compile(value, re.IGNORECASE)
    except re.error as exc:
        raise ValueError(
            f"pattern {value!r} does not compile ({exc}); fix the regex, escaping literal "
            "characters such as ( ) [ ] + ? with a backslash"
        ) from None
    return value


Text = Annotated[str, AfterValidator(_not_blank)]
Slug = Annotated[str, StringConstraints(pattern=SLUG_RE)]
Hashtag = Annotated[str, StringConstraints(pattern=HASHTAG_RE)]
Regex = Annotated[str, AfterValidator(_not_blank), AfterValidator(_compiles)]
RuleCoverage = Literal["rules", "partial", "semantic"]


class Citation(BaseModel):
    """One published source that the codebook operationalises."""

    model_config = ConfigDict(extra="forbid")

    reference: Text
    doi: Annotated[str, StringConstraints(pattern=DOI_RE)] | None = None
    url: Annotated[str, StringConstraints(pattern=URL_RE)] | None = None
    note: Text | None = None

    @model_validator(mode="after")
    def _doi_or_url(self) -> Citation:
        if self.doi is None and self.url is None:
            raise ValueError(
                "source has neither doi nor url; add the doi (10.xxxx/...), or, if no DOI "
                "could be verified, a url and a note saying so"
            )
        return self


class Examples(BaseModel):
    """Invented example posts: ones the code applies to, and near misses it does not."""

    model_config = ConfigDict(extra="forbid")

    positive: list[Text] = Field(min_length=1)
    negative: list[Text] = Field(min_length=1)


class Code(BaseModel):
    """One code; a code with ``children`` is a domain (or a code with sub-codes).

    ``assignable`` defaults to true for a leaf and false for a code with children: researchers
    code posts at the most specific level and roll domains up from their children. A parent may
    opt in with ``assignable: true`` as a catch-all for posts that fit the domain but none of its
    sub-codes; it then needs criteria and examples like any other assignable code.
    """

    model_config = ConfigDict(extra="forbid")

    id: Slug
    label: Text
    definition: Text | None = None  # required unless the codebook is a draft
    assignable: bool | None = None
    inclusion: list[Text] = []
    exclusion: list[Text] = []
    examples: Examples | None = None
    keywords: list[Text] = []
    hashtags: list[Hashtag] = []
    patterns: list[Regex] = []
    rule_coverage: RuleCoverage = "rules"
    children: list[Code] = []

    @model_validator(mode="after")
    def _resolve_assignable(self, info: ValidationInfo) -> Code:
        if self.assignable is None:
            self.assignable = not self.children
        if not self.children and not self.assignable:
            raise ValueError(
                f"code '{self.id}' has no sub-codes, so it must be assignable; "
                "remove 'assignable: false' or add children"
            )
        if (info.context or {}).get("draft"):
            return self  # a draft (e.g. imported) may still lack what coding needs
        if self.definition is None:
            raise ValueError(f"code '{self.id}' has no definition; write one (or mark the codebook "
                             "'status: draft' while it is being written)")
        missing = [k for k in ("inclusion", "exclusion", "examples") if not getattr(self, k)]
        if self.assignable and missing:
            raise ValueError(
                f"assignable code '{self.id}' lacks {', '.join(missing)}; add them so coders "
                "can apply it consistently (or set 'assignable: false' on a domain)"
            )
        return self


class Changes(BaseModel):
    """How this version's codes follow from the version coded before (``changes:``).

    Codes keep their id through a wording change, and human codes carry over. What ids cannot
    say is stated here: a rename, a split, a merge, or a change of meaning (see
    :mod:`flows.coding.evolution`).
    """

    model_config = ConfigDict(extra="forbid")

    since: Text | None = None  # the version label these changes lead from
    renamed: dict[Slug, Slug] = {}  # old id -> new id
    split: dict[Slug, list[Slug]] = {}  # old id -> the new codes it was split into
    merged: dict[Slug, list[Slug]] = {}  # new id -> the old codes merged into it
    redefined: list[Slug] = []  # same id, new meaning: earlier codes are not carried over
    note: Text | None = None


class Codebook(BaseModel):
    """A validated codebook; build it with :func:`load_codebook`. Frozen: its hashes are cached."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: Slug
    title: Text
    version: Text
    # A draft (an imported codebook, say) may lack citations, definitions, criteria and examples;
    # human coders can use it, machine coders refuse it until it is marked final.
    status: Literal["final", "draft"] = "final"
    citation: list[Citation] = []
    description: Text
    authors: list[Text] = []
    license: Text | None = None
    codes: list[Code] = Field(min_length=1)
    changes: Changes | None = None
    _source: Path | None = PrivateAttr(default=None)
    _hashes: dict[str, str] = PrivateAttr(default_factory=dict)

    @model_validator(mode="after")
    def _cited(self) -> Codebook:
        if self.status == "final" and not self.citation:
            raise ValueError("no citation; add the publication the codebook operationalises (doi, or url and "
                             "note), or mark the codebook 'status: draft' while it is being written")
        return self

    @model_validator(mode="after")
    def _changes_name_codes(self) -> Codebook:
        if self.changes is not None:
            _check_changes(self.changes, {n.code.id: n.code for n in iter_codes(self)})
        return self

    def dump(self) -> dict[str, Any]:
        """The model as JSON data; ``changes`` only when given (so older codebooks keep their hash)."""
        return self.model_dump(mode="json", exclude={"changes"} if self.changes is None else None)

    @property
    def source(self) -> Path | None:
        """The file this codebook was loaded from, if any."""
        return self._source

    @property
    def content_hash(self) -> str:
        """sha256 (hex) of :func:`canonical_json`; stored with every code assignment."""
        if "content" not in self._hashes:
            self._hashes["content"] = digest(_canonical(self.dump()))
        return self._hashes["content"]

    @property
    def codes_hash(self) -> str:
        """sha256 of the id and the codes alone: what machine coders read. Editing the title,
        version label, description or citations leaves it (and machine codes) unchanged."""
        if "codes" not in self._hashes:
            self._hashes["codes"] = digest(_canonical({"id": self.id, "codes": self.dump()["codes"]}))
        return self._hashes["codes"]


def _canonical(value: Any, key: str | None = None) -> Any:
    if isinstance(value, dict):
        return {k: _canonical(v, k) for k, v in value.items()}
    if isinstance(value, list):
        return [_canonical(item, key) for item in value]
    if isinstance(value, str):
        value = unicodedata.normalize("NFC", value)
        # Whitespace in a regex is meaning; everywhere else it is layout (YAML folding, wrapping).
        return value if key == "patterns" else " ".join(value.split())
    return value


def canonical_json(codebook: Codebook) -> str:
    """The canonical serialisation that :attr:`Codebook.content_hash` digests.

    The validated model with defaults filled in (writing a default out changes nothing); every
    string NFC-normalised, with whitespace runs collapsed to one space and trimmed, except in
    ``patterns``; then JSON with sorted keys, no insignificant spaces, UTF-8. List order is kept:
    reordering codes or examples is a change. YAML comments and key order never reach it.
    """
    return canonical(_canonical(codebook.dump()))


def _check_changes(changes: Changes, codes: dict[str, Code]) -> None:
    """New ids in ``changes`` must be assignable codes of this version; old ones must be gone."""
    new = [*changes.renamed.values(), *(c for parts in changes.split.values() for c in parts),
           *changes.merged, *changes.redefined]
    problems = [f"changes: '{c}' is not a code of this codebook; name codes as they are now"
                for c in dict.fromkeys(new) if c not in codes]
    problems += [f"changes: '{c}' is not assignable here; map to codes coders assign"
                 for c in dict.fromkeys(new) if c in codes and not codes[c].assignable]
    old = [*changes.renamed, *(o for k, olds in changes.merged.items() for o in olds if o != k),
           *(o for o, parts in changes.split.items() if o not in parts)]
    problems += [f"changes: '{c}' is still a code; a renamed, split or merged code's old id goes "
                 "from the codes (or keep it and drop it from changes)" for c in dict.fromkeys(old) if c in codes]
    if problems:
        raise ValueError("; ".join(problems))


def _tree_problems(root: Any, items: Any, loc: Loc, depth: int,
                   seen: dict[str, Loc]) -> list[tuple[Loc, str]]:
    """Duplicate ids and over-deep nesting, checked on the raw data to show beside other errors."""
    found: list[tuple[Loc, str]] = []
    for i, item in enumerate(items if isinstance(items, list) else []):
        here, item = (*loc, i), item if isinstance(item, dict) else {}
        code_id, kids = item.get("id"), item.get("children")
        if isinstance(code_id, str) and code_id in seen:
            first = human_path(root, seen[code_id])
            found.append(((*here, "id"), f"duplicate code id '{code_id}' (first at {first}); "
                          "give every code a unique id"))
        elif isinstance(code_id, str):
            seen[code_id] = here
        if kids and depth >= MAX_DEPTH:
            found.append(((*here, "children"), f"codes nest at most {MAX_DEPTH} levels (domain -> "
                          "code -> sub-code); move these sub-codes up a level"))
        elif kids:
            found += _tree_problems(root, kids, (*here, "children"), depth + 1, seen)
    return found


def _coverage_problems(codebook: Codebook) -> list[tuple[Loc, str]]:
    """Hold each code's ``rule_coverage`` claim to its own positive examples."""
    found: list[tuple[Loc, str]] = []
    for node, loc in _walk(codebook.codes, (), None, ("codes",)):
        code = node.code
        if not code.assignable or code.examples is None or code.rule_coverage == "semantic":
            continue
        hits = [bool(rule_hits(code, text)) for text in code.examples.positive]
        if code.rule_coverage == "rules":
            found += [((*loc, "examples", "positive", i), "positive example matches none of the "
                       "code's keywords, hashtags or patterns; add a rule that catches it, or set "
                       "rule_coverage: partial if only a reader can tell")
                      for i, hit in enumerate(hits) if not hit]
        elif all(hits) or not any(hits):
            fix = "rules" if all(hits) else "semantic"
            found.append(((*loc, "rule_coverage"), f"{'every' if all(hits) else 'no'} positive "
                          "example matches a rule, so coverage is not partial; "
                          f"set rule_coverage: {fix}"))
    return found


def _validate(path: Path) -> tuple[Codebook | None, list[str]]:
    data, lines = read_yaml(path)
    if lines:
        return None, lines
    if not isinstance(data, dict):
        what = "empty" if data is None else f"{describe_value(data)}, not a mapping"
        return None, [f"{path}: [top level] the document is {what}; start it with "
                      f"'id: {path.stem}' then title, version, citation, description and codes"]
    found: list[tuple[Loc, str]] = []
    codebook = None
    try:
        codebook = Codebook.model_validate(data, context={"draft": data.get("status") == "draft"})
    except ValidationError as exc:
        found += [(tuple(e["loc"]), describe(e, Codebook, _PATTERN_FIXES, README, SLUG_RE)) for e in exc.errors()]
    if isinstance(data.get("id"), str) and data["id"] != path.stem:
        found.append((("id",), f"id '{data['id']}' differs from the file name '{path.name}'; "
                      f"rename the file to {data['id']}.yaml or set id: {path.stem}"))
    found += _tree_problems(data, data.get("codes"), ("codes",), 1, {})
    if codebook is not None and not found:
        found += _coverage_problems(codebook)
    # A misspelt required key shows up twice (unknown + missing); the did-you-mean line says it all.
    meant = {(loc[:-1], m[1]) for loc, msg in found
             if (m := re.search(r"did you mean '(\w+)'", msg))}
    found = [(loc, msg) for loc, msg in found
             if not (msg.startswith("missing") and (loc[:-1], loc[-1]) in meant)]
    lines = list(dict.fromkeys(f"{path}: [{human_path(data, loc)}] {msg}" for loc, msg in found))
    return (None if lines else codebook), lines


def validate_path(path: Path | str) -> list[str]:
    """Every problem in one codebook file, one line each; empty when the file is valid.

    Example:
        >>> validate_path(shipped_dir() / "chretien2015.yaml")
        []
    """
    return _validate(Path(path))[1]


def load_codebook(path: Path | str) -> Codebook:
    """Load and validate one codebook file.

    Raises:
        CodebookError: with every problem found, each naming the file, the field path and a fix.
    """
    codebook, problems = _validate(Path(path))
    if codebook is None:
        raise CodebookError(problems)
    codebook._source = Path(path)
    return codebook


def shipped_dir() -> Path:
    """The ``coding_schemes/`` directory shipped with ethnoflow, wherever the CWD is."""
    return Path(__file__).resolve().parents[2] / "coding_schemes"


def discover(search_dirs: list[Path]) -> dict[str, Path]:
    """Map codebook id to file over ``search_dirs``; a later directory overrides an earlier one.

    A codebook's id is its file name without ``.yaml`` (validation enforces that), so discovery
    opens no file. Missing directories are skipped: most studies ship no codebooks of their own.
    Typical call: ``discover([shipped_dir(), study_dir / "coding_schemes"])``.

    Raises:
        CodebookError: if a directory holds ``*.yml`` files, which would otherwise be ignored.
    """
    found: dict[str, Path] = {}
    misnamed: list[str] = []
    for directory in map(Path, search_dirs):
        if directory.is_dir():
            misnamed += [f"{p}: codebooks end in .yaml; rename it to {p.stem}.yaml"
                         for p in sorted(directory.glob("*.yml"))]
            found.update((p.stem, p) for p in sorted(directory.glob("*.yaml")))
    if misnamed:
        raise CodebookError(misnamed)
    return found


@dataclass(frozen=True)
class CodeNode:
    """A code in its place: ``path`` holds the ids from the domain down; a domain has depth 1."""

    code: Code
    path: tuple[str, ...]
    depth: int
    parent: Code | None


def _walk(codes: list[Code], path: tuple[str, ...], parent: Code | None,
          loc: Loc) -> Iterator[tuple[CodeNode, Loc]]:
    for i, code in enumerate(codes):
        yield CodeNode(code, (*path, code.id), len(path) + 1, parent), (*loc, i)
        yield from _walk(code.children, (*path, code.id), code, (*loc, i, "children"))


def iter_codes(codebook: Codebook) -> Iterator[CodeNode]:
    """Every code, depth first, each parent before its children, in file order."""
    return (node for node, _ in _walk(codebook.codes, (), None, ("codes",)))


def leaf_codes(codebook: Codebook) -> list[Code]:
    """Codes without children, in file order."""
    return [node.code for node in iter_codes(codebook) if not node.code.children]


def assignable_codes(codebook: Codebook) -> list[Code]:
    """Codes a coder may assign: every leaf, plus any parent marked ``assignable: true``."""
    return [node.code for node in iter_codes(codebook) if node.code.assignable]


Code.model_rebuild()
Codebook.model_rebuild()


def search_dirs(schemes: Path | None = None) -> list[Path]:
    """Where codebooks are looked up: the shipped ones, then a study's own ``coding_schemes/``."""
    return [shipped_dir()] + ([Path(schemes)] if schemes else [])


def resolve_codebook(ref: str, schemes: Path | None = None) -> Codebook:
    """Load a codebook by id (shipped or in ``schemes``) or by the path of its YAML file.

    Raises:
        CodebookError: the file is invalid, or no codebook has that id (the message lists them).
    """
    if ref.endswith((".yaml", ".yml")) or "/" in ref or Path(ref).is_file():
        return load_codebook(ref)
    found = discover(search_dirs(schemes))
    if ref not in found:
        known = ", ".join(sorted(found)) or "none"
        raise CodebookError([f"no codebook with id '{ref}'; known: {known} "
                             "(or give the path of a .yaml file)"])
    return load_codebook(found[ref])
