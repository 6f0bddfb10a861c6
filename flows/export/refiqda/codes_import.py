"""A REFI-QDA project's coded selections back into ``code_assignments``, one coder per user.

Posts are found by the block headers ethnoflow writes into every source
(``── <time> · <kind> · post <platform>/<post id>``), so a project exported by ethnoflow, coded
or recoded in NVivo, ATLAS.ti or MAXQDA and exported again comes back wherever its coders put
their selections: a selection codes every post whose text it overlaps. A user "coded" a post
when one of their codings touches it, or when the selection's description (written by
ethnoflow) lists them; for such a post, each assignable code is 1 if the user applied it and 0
if not. Codes map onto the codebook by ethnoflow's GUID, then by the ``(ethnoflow id: …)`` in
the code's description, then by id or label. The import is all or nothing, like
``import-codes``: unknown codes or users stop it with every problem listed. A pseudonymised
project names its posts by pseudonym (``post_…``): they are mapped back with the study secret.
"""

from __future__ import annotations

import hashlib
import re
from bisect import bisect_left
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pandas as pd

from flows.coding.codebook import Codebook, iter_codes
from flows.coding.store import CodingError, check_human_coder, register_codebook, replace_assignments, write_batch
from flows.export.refiqda.codebook_xml import parse_description
from flows.export.refiqda.conventions import PROGRAMS, Convention, PositionMap, of_project
from flows.export.refiqda.guids import code_guid
from flows.export.refiqda.reader import RefiProject, RefiSource, read_qdpx
from flows.export.refiqda.to_yaml import slug
from flows.store.db import transaction

HEADER_RE = re.compile(r"^── [^\n]* · post (?P<platform>[a-z]+)/(?P<post_id>\S+)\r?$", re.MULTILINE)
# Who coded a post where no code applies: a source's description (since ethnoflow 0.1), or,
# in older exports, the description of the post's selection.
NOTHING_RE = re.compile(r"^ethnoflow: coded by (\S+), no code applies: (.*)$", re.MULTILINE)
CODED_BY_RE = re.compile(r"ethnoflow: coded by ([^,\n]+)$")


@dataclass(frozen=True)
class Span:
    platform: str
    post_id: str
    start: int  # code-point indexes of the post's text in the source
    end: int


def post_spans(text: str) -> list[Span]:
    """Each post block's text span (after its header line, up to the blank line before the next)."""
    heads = list(HEADER_RE.finditer(text))
    spans = []
    for i, head in enumerate(heads):
        start = head.end() + 1
        end = heads[i + 1].start() if i + 1 < len(heads) else len(text)
        while end > start and text[end - 1] in "\r\n":
            end -= 1
        spans.append(Span(head["platform"], head["post_id"], start, end))
    return spans


def convention_of(project: RefiProject, positions: str = "auto") -> Convention:
    """How this project counts positions: ``auto`` (by the program that wrote it, see
    :func:`flows.export.refiqda.conventions.of_project`) or a program's name."""
    if positions == "auto":
        return of_project(project.origin, project.description)
    if positions not in PROGRAMS:
        raise CodingError(f"unknown convention {positions!r}; use auto or one of {', '.join(PROGRAMS)}")
    return PROGRAMS[positions]


def code_map(project: RefiProject, codebook: Codebook) -> tuple[dict[str, str], dict[str, str]]:
    """Project code GUID -> codebook code id; and GUID -> name of the codes that match none."""
    assignable = {n.code.id: n.code for n in iter_codes(codebook) if n.code.assignable}
    by_guid = {code_guid(codebook.id, c): c for c in assignable}
    by_label = {c.label.lower(): i for i, c in assignable.items()}
    mapping, unmatched = {}, {}
    for code, _ in project.iter_codes():
        found = (by_guid.get(code.guid) or parse_description(code.description).get("id")
                 or (slug(code.name) if slug(code.name) in assignable else None) or by_label.get(code.name.lower()))
        if found in assignable:
            mapping[code.guid] = found
        else:
            unmatched[code.guid] = code.name
    return mapping, unmatched


def _overlapping(spans: list[Span], ends: list[int], start: int, end: int) -> list[Span]:
    """The post spans a selection [start, end) overlaps (an empty selection: the one it is in)."""
    out = []
    for span in spans[bisect_left(ends, start):]:
        if span.start > end or (span.start == end and end > start):
            break
        if span.start < end and start < span.end or span.start <= start <= span.end:
            out.append(span)
    return out


def _nothing_applies(source: RefiSource) -> dict[tuple[str, str], list[str]]:
    """(platform, post id) -> coders who coded it and applied no code, from the source's description."""
    out: dict[tuple[str, str], list[str]] = defaultdict(list)
    for found in NOTHING_RE.finditer((source.description or "").replace("\r\n", "\n")):
        for post in found.group(2).split():
            platform, _, post_id = post.partition("/")
            out[(platform, post_id)].append(found.group(1))
    return out


def _coded(source: RefiSource, convention: Convention, users: dict[str, str], codes: tuple[dict, dict],
           problems: list[str]) -> dict[tuple[str, str, str], set[str]]:
    """(platform, post id, user name) -> codes applied, for every post a user coded."""
    (codes, unmatched), text = codes, source.text or ""
    spans, positions = post_spans(text), PositionMap(text, convention)
    ends = [s.end for s in spans]  # spans are in text order and do not overlap
    out: dict[tuple[str, str, str], set[str]] = defaultdict(set)
    for (platform, post_id), names in _nothing_applies(source).items():
        for name in names:
            out[(platform, post_id, name)]
    for sel in source.selections:
        start, end = positions.to_index(sel.start), positions.to_index(sel.end)
        hit = _overlapping(spans, ends, start, end)
        if not hit:
            problems.append(f"source '{source.name}': selection {sel.start}-{sel.end} lies outside every post")
            continue
        listed = CODED_BY_RE.search(sel.description or "")
        for span in hit:
            for name in (listed.group(1).split("; ") if listed else []):
                out[(span.platform, span.post_id, name.strip())]
            for user, code in sel.codings:
                if code in codes:
                    out[(span.platform, span.post_id, users.get(user or "", user or "?"))].add(codes[code])
                else:
                    problems.append(f"code '{unmatched.get(code, code)}' is used but matches no assignable "
                                    "code of the codebook (import the project's codebook with `ethnoflow "
                                    "codebook import` and code against that)")
    return out


def import_qdpx_codes(con: duckdb.DuckDBPyConnection, path: str | Path, codebook: Codebook, *,
                      coders: dict[str, str] | str | None = None, positions: str = "auto",
                      secret: bytes | None = None) -> dict:
    """Import a project's codings as code assignments, one coder per project user.

    Args:
        codebook: the codebook the codes belong to (registered as its current version).
        coders: project user name -> coder name; only these users are imported. A single name:
            the project's only user. None: every user under their own name (which must be a
            valid human coder name).
        positions: ``auto`` (by the program that wrote the project, see :func:`convention_of`)
            or a program's name (``standard``, ``qualcoder``, ``nvivo``, ``atlasti``, ``maxqda``).
        secret: the study secret, to map pseudonymised post ids back (default: the store's).

    Raises:
        CodingError: unknown codes, users or coder names, or no ethnoflow post headers.
    """
    path = Path(path)
    project = read_qdpx(path)
    codes, problems = code_map(project, codebook), []
    convention = convention_of(project, positions)
    found: dict[tuple[str, str, str], set[str]] = {}
    for source in project.sources:
        if source.text and not HEADER_RE.search(source.text):
            problems.append(f"source '{source.name}' has no ethnoflow post headers; only projects exported "
                            "by `ethnoflow export dataset --format qdpx` can be imported")
        found.update(_coded(source, convention, project.users, codes, problems))
    found = _real_posts(con, found, secret)
    names = _coder_names({user for _, _, user in found}, coders, problems)
    if problems:
        raise CodingError([f"{path}: {p}" for p in dict.fromkeys(problems)])
    rows = _rows(con, found, names, codebook, path)
    with transaction(con):
        register_codebook(con, codebook)
        written = replace_assignments(con, rows)
    return {"coders": sorted(set(names.values())), "posts": rows[["platform", "post_id"]].drop_duplicates().shape[0]
            if not rows.empty else 0, "assignments": written, "positions": convention.name}


def _real_posts(con: duckdb.DuckDBPyConnection, found: dict, secret: bytes | None) -> dict:
    """``found`` with post pseudonyms (a pseudonymised export) turned back into the store's post ids;
    a post withdrawn since has no real id any more and is left out."""
    from flows.privacy.pseudonym import PSEUDONYM_RE, reveal_posts, secret_for

    hidden = sorted({post for _, post, _ in found if PSEUDONYM_RE.fullmatch(post)})
    if not hidden:
        return found
    real = reveal_posts(con, secret if secret is not None else secret_for(con), hidden)
    out: dict = {}
    for (platform, post, user), codes in found.items():
        if post in real:
            if real[post] is None:
                continue
            platform, post = real[post]
        out[(platform, post, user)] = codes
    return out


def _coder_names(users: set[str], coders: dict[str, str] | str | None, problems: list[str]) -> dict[str, str]:
    if isinstance(coders, str):  # one name for a project with one user
        if len(users) != 1:
            problems.append(f"the project has {len(users)} users with codings ({', '.join(sorted(users))}); "
                            "name each: --coder USER=NAME")
        coders = {u: coders for u in users}
    names = dict(coders) if coders else {u: u for u in users}
    for user in sorted(set(names) - users):
        problems.append(f"no codings by user '{user}' in the project (users: {', '.join(sorted(users)) or 'none'})")
    for name in sorted(set(names.values())):
        try:
            check_human_coder(name)
        except CodingError as exc:
            problems.append(f"{exc} (map the user to another name: --coder USER=NAME)")
    return names


def _rows(con: duckdb.DuckDBPyConnection, found: dict, names: dict[str, str], codebook: Codebook,
          path: Path) -> pd.DataFrame:
    codes = [n.code.id for n in iter_codes(codebook) if n.code.assignable]
    rows = con.execute("SELECT platform, post_id, coalesce(text, '') FROM posts").fetchall()
    texts = {(p, i): t for p, i, t in rows}
    sha = hashlib.sha256(path.read_bytes()).hexdigest()
    batches = {c: write_batch(con, c, codebook, "human", {"qdpx": path.name, "sha256": sha, "users": sorted(
        u for u, n in names.items() if n == c)}) for c in set(names.values())}
    rows = []
    for (platform, post_id, user), present in sorted(found.items()):
        if user not in names or (platform, post_id) not in texts:
            continue  # another user's codes, or a post withdrawn since the export
        text_sha = hashlib.sha256(texts[(platform, post_id)].encode("utf-8")).hexdigest()
        coder = names[user]
        rows += [(platform, post_id, codebook.id, codebook.content_hash, code, coder, int(code in present),
                  None, text_sha, batches[coder]) for code in codes]
    columns = ["platform", "post_id", "codebook_id", "content_hash", "code_id", "coder", "value", "score",
               "text_sha256", "batch_id"]
    return pd.DataFrame(rows, columns=columns)
