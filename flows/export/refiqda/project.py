"""A REFI-QDA project (``.qdpx``) of the study: sources, coded selections, users, cases.

- **users** are the coders whose codes are exported (``auto``, ``consensus``, people);
- the **codebook** is the code tree with each code's definition and criteria, every name unique;
- **sources**: one plain-text source per account (``--qdpx-unit account``: the account's
  posts in time order) or per post (``post``). Every post is a block: a header line
  ``── 2014-09-03 14:05 UTC · reply · post twitter/5093…`` and then its text; reposts (someone
  else's words) and empty posts are left out. Source and case names are unique (two accounts
  showing the same handle are told apart by platform, then by number);
- **selections**: one per post and coder who applied at least one code, named
  ``<platform>/<post id>``, with ``creatingUser`` = that coder and one coding per code applied
  (QualCoder takes a coding's owner from its selection, and keeps one coding per code, span and
  owner). A post nobody coded has no selection; a coder who coded posts and found no code
  applies is listed in the source's description (``ethnoflow: coded by ana, no code applies:
  twitter/1 twitter/2``), so "coded, nothing applies" survives the trip;
- **pseudonymised**, every name, id and text goes through :mod:`flows.privacy.redactor`:
  accounts are named by pseudonym and posts by their ``post_…`` pseudonym (in headers, selection
  names and GUIDs), which ``import-qdpx`` maps back with the study secret;
- **cases**: one per account, with the variables role, posts (all its posts in the store,
  reposts included) and platform, linked to its sources.

Positions and line ends follow the program the project is for
(:mod:`flows.export.refiqda.conventions`); GUIDs :mod:`flows.export.refiqda.guids`. The zip has
fixed timestamps and the XML no clock time, so the same store and options give the same bytes.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
import zipfile
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from flows.export.refiqda.codebook_xml import code_elements, origin
from flows.export.refiqda.conventions import Convention, program
from flows.export.refiqda.guids import code_guid, guid, user_guid
from flows.export.refiqda.xml import PROJECT_NS, clean, element, to_bytes
from flows.export.selection import ExportOptions, Selection

ZIP_TIME = (1980, 1, 1, 0, 0, 0)
VARIABLES = (("role", "Text", "The account's role (ethnoflow roles)."),
             ("posts", "Integer", "The account's posts in the store, reposts included."),
             ("platform", "Text", "twitter or bluesky."))
NOTHING_APPLIES = "ethnoflow: coded by {coder}, no code applies: {posts}"


@dataclass
class Block:
    """One post in a source: where its text lies (in the convention's units) and its codes."""

    platform: str
    post_id: str
    start: int
    end: int
    present: dict[str, list[str]]  # coder -> codes present, in codebook order ([] = coded, none apply)
    real_id: str = ""  # the post's id in the store (post_id may be its pseudonym)


@dataclass
class Source:
    key: str
    account: tuple[str, str]  # (platform, author id), whose case it belongs to
    name: str
    convention: Convention
    parts: list[str] = field(default_factory=list)
    units: int = 0  # length so far, in the convention's units (kept running: sources grow long)
    blocks: list[Block] = field(default_factory=list)

    def add(self, piece: str) -> int:
        """Append text; return where it starts."""
        start = self.units
        self.parts.append(piece)
        self.units += self.convention.units(piece)
        return start

    @property
    def text(self) -> str:
        return "".join(self.parts)

    @property
    def guid(self) -> str:
        return guid("source", self.key)

    def nothing_applies(self) -> list[str]:
        """The description lines naming, per coder, the posts they coded where no code applies."""
        by_coder: dict[str, list[str]] = defaultdict(list)
        for block in self.blocks:
            for coder, codes in block.present.items():
                if not codes:
                    by_coder[coder].append(f"{block.platform}/{block.post_id}")
        return [NOTHING_APPLIES.format(coder=c, posts=" ".join(p)) for c, p in sorted(by_coder.items())]


def _accounts(con: duckdb.DuckDBPyConnection) -> dict[tuple[str, str], dict]:
    rows = con.execute("""
        SELECT p.platform, coalesce(p.author_id, '@' || p.author_handle) AS author, max(p.author_handle),
               count(*), min(r.role)
        FROM posts AS p LEFT JOIN author_roles AS r ON r.platform = p.platform AND r.author_id = p.author_id
        GROUP BY ALL ORDER BY ALL""").fetchall()
    return {(p, a): {"handle": h, "posts": n, "role": role or "other"} for p, a, h, n, role in rows}


def _posts(con: duckdb.DuckDBPyConnection):
    return con.execute("""
        SELECT platform, coalesce(author_id, '@' || author_handle) AS author, post_id, created_at, kind, text
        FROM posts WHERE kind <> 'repost' AND coalesce(text, '') <> ''
        ORDER BY platform, author, created_at NULLS LAST, length(post_id), post_id""").fetchall()


def _codes(con: duckdb.DuckDBPyConnection, selection: Selection) -> dict[tuple[str, str], dict[str, list[str]]]:
    """(platform, post id) -> coder -> codes present, for every post a chosen coder coded."""
    if selection.codebook is None or not selection.coders:
        return {}
    order = {n.code.id: i for i, n in enumerate(selection.codes)}
    out: dict = defaultdict(dict)
    for platform, post_id, coder, code, value in con.execute("""
            SELECT platform, post_id, coder, code, value FROM code_values
            WHERE codebook = ? AND list_contains(?, coder) ORDER BY ALL""",
            [selection.codebook.id, selection.coders]).fetchall():
        present = out[(platform, post_id)].setdefault(coder, [])
        if value == 1 and code in order:
            present.append(code)
    for coders in out.values():
        for codes in coders.values():
            codes.sort(key=order.get)
    return out


def unique_names(wanted: dict[tuple[str, str], str]) -> dict[tuple[str, str], str]:
    """Account names made unique (QualCoder refuses two sources or cases with one name): a name
    several accounts share gets the platform, and a number where one platform has several."""
    by_name: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for key, name in sorted(wanted.items()):
        by_name[name].append(key)
    out: dict[tuple[str, str], str] = {}
    for name, keys in by_name.items():
        per_platform = Counter(platform for platform, _ in keys)
        seen: Counter = Counter()
        for key in keys:
            seen[key[0]] += 1
            if len(keys) == 1:
                out[key] = name
            elif per_platform[key[0]] == 1:
                out[key] = f"{name} ({key[0]})"
            else:
                out[key] = f"{name} ({key[0]} {seen[key[0]]})"
    taken: set[str] = set()
    for key, name in sorted(out.items()):  # a made-up name that is someone's real one (never with handles)
        candidate, n = name, 1
        while candidate in taken:
            n += 1
            candidate = f"{name} #{n}"
        taken.add(candidate)
        out[key] = candidate
    return out


def build_sources(con: duckdb.DuckDBPyConnection, selection: Selection, options: ExportOptions,
                  redactor=None) -> tuple[list[Source], dict]:
    """The text sources and their post blocks, and the accounts (for cases)."""
    accounts, codes = _accounts(con), _codes(con, selection)
    names = unique_names({k: _name(k, v["handle"], redactor) for k, v in accounts.items()})
    convention = program(options.qdpx_for)
    sources: dict[str, Source] = {}
    for platform, author, real_id, created_at, kind, text in _posts(con):
        post_id = real_id
        if redactor is not None:  # names, ids and texts through the redaction layer; posts by pseudonym
            text, post_id = redactor.text(text), redactor.post(platform, real_id)
        who = names[(platform, author)]
        key = (f"account:{platform}:{_account_key(author, who, redactor)}" if options.qdpx_unit == "account"
               else f"post:{platform}:{post_id}")
        if key not in sources:
            name = who if options.qdpx_unit == "account" else f"{who} {platform}/{post_id}"
            sources[key] = Source(key, (platform, author), name, convention)
            if options.qdpx_unit == "account":
                sources[key].add(clean(f"{who} · {platform} · {accounts[(platform, author)]['posts']} posts") + "\n\n")
        source = sources[key]
        when = _when(created_at)
        source.add(f"── {when} · {kind} · post {platform}/{post_id}\n")
        start = source.add(clean(text))
        end = source.units
        source.add("\n\n")
        source.blocks.append(Block(platform, post_id, start, end, codes.get((platform, real_id), {}), real_id))
    return list(sources.values()), {k: dict(v, name=names[k]) for k, v in accounts.items()}


def _when(created_at) -> str:
    """A post's time for its header; a date Python cannot hold (before year 1) comes as text."""
    if created_at is None:
        return "undated"
    return created_at if isinstance(created_at, str) else created_at.strftime("%Y-%m-%d %H:%M UTC")


def _name(key: tuple[str, str], handle: str | None, redactor) -> str:
    author = key[1]
    if redactor is not None:
        return redactor.author(author)
    return f"@{handle}" if handle else author


def _account_key(author: str, name: str, redactor) -> str:
    return name if redactor is not None else author


def _project_xml(sources: list[Source], accounts: dict, selection: Selection, options: ExportOptions,
                 name: str, redactor, notes: list | None = None,
                 validation: dict[str, list[str]] | None = None) -> bytes:
    from flows.export.refiqda.notes import code_refs, notes_element, source_refs

    notes = notes or []
    root = element(None, "Project", {"name": name, "origin": origin()})
    if selection.coders:
        users = element(root, "Users")
        for coder in selection.coders:
            element(users, "User", {"guid": user_guid(coder), "name": coder})
    cb = selection.codebook
    if cb is not None:
        code_elements(element(element(root, "CodeBook"), "Codes"), cb.codes, cb.id, notes=code_refs(notes, cb.id),
                      validation=validation)
    variables = element(root, "Variables")
    for var, kind, text in VARIABLES:
        element(element(variables, "Variable", {"guid": guid("variable", var), "name": var,
                                                "typeOfVariable": kind}), "Description", text=text)
    _cases(root, sources, accounts, redactor)
    holder = element(root, "Sources")
    refs = source_refs(notes)
    for source in sources:
        _source(holder, source, cb.id if cb else None, options, refs.get(source.guid, []))
    notes_element(root, notes)
    element(root, "Description", text=_description(selection, options, validation or {}))
    return to_bytes(root, PROJECT_NS)


def _validation(con: duckdb.DuckDBPyConnection, selection: Selection) -> dict[str, list[str]]:
    """Per code, one line for each machine coder exported: the validation gate's verdict
    (flows.coding.gate), so that a project opened in NVivo or QualCoder says which machine codes
    are not findings."""
    from flows.coding import gate
    from flows.coding.codebook import assignable_codes

    cb = selection.codebook
    machines = [c for c in selection.coders if c.startswith("auto")]
    if cb is None or not machines:
        return {}
    ids = [c.id for c in assignable_codes(cb)]
    out: dict[str, list[str]] = {i: [] for i in ids}
    for coder in machines:
        for code, verdict in gate.verdicts(con, selection.content_hash, ids, coder).items():
            out[code].append(f"Validation of {coder}'s codings: {gate.mark(coder, verdict)}")
    return out


def _cases(root: ET.Element, sources: list[Source], accounts: dict, redactor) -> None:
    refs: dict[tuple[str, str], list[str]] = defaultdict(list)
    for source in sources:
        refs[source.account].append(source.guid)
    cases = element(root, "Cases")
    for key, acc in accounts.items():
        account_id = _account_key(key[1], acc["name"], redactor)
        case = element(cases, "Case", {"guid": guid("case", key[0], account_id), "name": acc["name"]})
        for (var, kind, _), value in zip(VARIABLES, (acc["role"], acc["posts"], key[0])):
            vv = element(case, "VariableValue")
            element(vv, "VariableRef", {"targetGUID": guid("variable", var)})
            element(vv, "IntegerValue" if kind == "Integer" else "TextValue", text=str(value))
        for target in refs.get(key, []):
            element(case, "SourceRef", {"targetGUID": target})


def _source(holder: ET.Element, source: Source, codebook_id: str | None, options: ExportOptions,
            notes: list[str]) -> None:
    node = element(holder, "TextSource", {"guid": source.guid, "name": source.name,
                                          "plainTextPath": f"internal://{source.guid}.txt"})
    listed = source.nothing_applies()
    if listed:
        element(node, "Description", text="\n".join(listed))
    for block in source.blocks:
        for coder, codes in sorted(block.present.items()):
            if not codes:
                continue
            sel = element(node, "PlainTextSelection", {
                "guid": guid("selection", options.qdpx_unit, block.platform, block.post_id, coder),
                "name": f"{block.platform}/{block.post_id}", "startPosition": block.start,
                "endPosition": block.end, "creatingUser": user_guid(coder)})
            for code in codes:
                coding = element(sel, "Coding", {"guid": guid("coding", options.qdpx_unit, block.platform,
                                                               block.post_id, coder, code),
                                                 "creatingUser": user_guid(coder)})
                element(coding, "CodeRef", {"targetGUID": code_guid(codebook_id, code)})
    for note in notes:
        element(node, "NoteRef", {"targetGUID": note})


def _description(selection: Selection, options: ExportOptions, validation: dict[str, list[str]]) -> str:
    cb = selection.codebook
    lines = [f"Exported by {origin()} for {options.qdpx_for}. " + program(options.qdpx_for).describe(),
             f"Unit: one text source per {options.qdpx_unit}; one selection per post and coder who applied "
             "a code; a source's description lists the posts a coder coded where no code applies.",
             f"Codebook: {cb.id} v{cb.version}, content hash {selection.content_hash}." if cb else "No codebook.",
             f"Coders (users): {', '.join(selection.coders) or 'none'}; their memos are Notes (author, date).",
             "Pseudonymised." if options.pseudonymize else "Real handles."]
    failing = sorted(code for code, marks in validation.items() if any("NOT VALIDATED" in m for m in marks))
    if failing:
        lines.append("Machine codings NOT VALIDATED (not findings; each code's description says why): "
                     + ", ".join(failing) + ".")
    return "\n".join(lines)


def write_qdpx(con: duckdb.DuckDBPyConnection, path: Path, selection: Selection, options: ExportOptions,
               name: str, redactor=None) -> dict:
    """Write the project to ``path`` (which may be a temporary name); return what it holds."""
    from flows.export.refiqda.notes import collect

    sources, accounts = build_sources(con, selection, options, redactor)
    notes = collect(con, selection, sources, redactor)
    qde = _project_xml(sources, accounts, selection, options, name, redactor, notes, _validation(con, selection))
    convention = program(options.qdpx_for)
    files = [(f"sources/{s.guid}.txt", s.text) for s in sources] + [(n.path, n.text) for n in notes if n.path]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        _add(archive, "project.qde", qde)
        for file_name, text in sorted(files):
            _add(archive, file_name, convention.encode(text))
    blocks = [b for s in sources for b in s.blocks]
    return {"for": options.qdpx_for, "sources": len(sources), "posts": len(blocks), "cases": len(accounts),
            "selections": sum(1 for b in blocks for c in b.present.values() if c),
            "codings": sum(len(c) for b in blocks for c in b.present.values()),
            "users": list(selection.coders), "notes": len(notes)}


def _add(archive: zipfile.ZipFile, name: str, data: bytes) -> None:
    info = zipfile.ZipInfo(name, date_time=ZIP_TIME)
    info.compress_type = zipfile.ZIP_DEFLATED
    info.external_attr = 0o644 << 16
    archive.writestr(info, data)
