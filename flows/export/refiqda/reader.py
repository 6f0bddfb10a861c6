"""Reading REFI-QDA files written by any program: a project (``.qdpx``) or a codebook (``.qdc``).

Only what ethnoflow uses is read: users, the code tree (names, descriptions, codability),
text sources with their plain text, and their selections' codings. Text files are decoded as
UTF-8 with any byte-order mark dropped (NVivo writes one); positions are left as written, for
:mod:`flows.export.refiqda.conventions` to interpret.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from flows.errors import UserError
from flows.export.refiqda.xml import child, children, local, text_of

MAX_QDC = 64 << 20  # a codebook of 64 MiB would hold a million codes


class RefiError(UserError):
    """A file that is not a readable REFI-QDA project or codebook, explained with the fix."""


@dataclass
class RefiCode:
    guid: str
    name: str
    codable: bool
    description: str | None
    children: list[RefiCode] = field(default_factory=list)


@dataclass
class RefiSelection:
    guid: str
    name: str
    start: int
    end: int
    description: str | None
    codings: list[tuple[str | None, str]]  # (user GUID, code GUID)


@dataclass
class RefiSource:
    guid: str
    name: str
    text: str | None
    selections: list[RefiSelection]
    description: str | None = None


@dataclass
class RefiProject:
    name: str
    origin: str
    description: str
    users: dict[str, str]
    codes: list[RefiCode]
    sources: list[RefiSource]

    def iter_codes(self):
        """Every code, depth first, with its depth (1 = top level)."""
        stack = [(c, 1) for c in reversed(self.codes)]
        while stack:
            code, depth = stack.pop()
            yield code, depth
            stack += [(c, depth + 1) for c in reversed(code.children)]


def _codes(parent: ET.Element | None) -> list[RefiCode]:
    if parent is None:
        return []
    return [RefiCode(c.get("guid", ""), c.get("name", ""), c.get("isCodable", "true").lower() != "false",
                     text_of(c, "Description"), _codes(c)) for c in children(parent, "Code")]


def _parse(data: bytes, path: Path) -> ET.Element:
    from flows.privacy.untrusted import UntrustedFileError, parse_xml

    try:
        return parse_xml(data, path)
    except UntrustedFileError as exc:
        raise RefiError(str(exc)) from None
    except ET.ParseError as exc:
        raise RefiError(f"{path}: the XML is not well-formed ({exc}); export it again from the "
                        "program that made it") from None


def read_qdc(path: Path) -> RefiProject:
    """A ``.qdc`` codebook, as a project with codes only."""
    if Path(path).stat().st_size > MAX_QDC:
        raise RefiError(f"{path}: {Path(path).stat().st_size / 2**20:.0f} MiB is far more than any codebook; refused")
    root = _parse(Path(path).read_bytes(), path)
    if local(root.tag) != "CodeBook":
        raise RefiError(f"{path}: not a REFI-QDA codebook (root <{local(root.tag)}>, expected <CodeBook>)")
    return RefiProject(Path(path).stem, root.get("origin", ""), "", {}, _codes(child(root, "Codes")), [])


def read_qdpx(path: Path) -> RefiProject:
    """A ``.qdpx`` project: its ``project.qde`` and the plain texts of its text sources."""
    from flows.privacy.untrusted import UntrustedFileError, open_zip, read_member

    try:
        archive = open_zip(path, "REFI-QDA project")
    except UntrustedFileError as exc:
        raise RefiError(str(exc)) from None
    except (zipfile.BadZipFile, OSError) as exc:
        raise RefiError(f"{path}: not a .qdpx project (a zip file) ({exc}); export the project "
                        "again as REFI-QDA") from None
    with archive:
        members = {m.lower(): m for m in archive.namelist()}
        qde = next((m for low, m in members.items() if low.endswith(".qde") and "/" not in low), None)
        if qde is None:
            raise RefiError(f"{path}: no project.qde inside; is this a REFI-QDA project export?")
        try:
            root = _parse(read_member(archive, qde, path), path)
            sources = [_source(s, archive, members, path) for s in _text_sources(root)]
        except UntrustedFileError as exc:
            raise RefiError(str(exc)) from None
    book = child(root, "CodeBook")
    holder = child(root, "Users")
    users = {u.get("guid", ""): u.get("name") or u.get("id") or u.get("guid", "")
             for u in (children(holder, "User") if holder is not None else [])}
    return RefiProject(root.get("name", ""), root.get("origin", ""), text_of(root, "Description") or "",
                       users, _codes(child(book, "Codes") if book is not None else None), sources)


def _text_sources(root: ET.Element) -> list[ET.Element]:
    holder = child(root, "Sources")
    return children(holder, "TextSource") if holder is not None else []


def _source(node: ET.Element, archive: zipfile.ZipFile, members: dict[str, str], path: Path) -> RefiSource:
    text = text_of(node, "PlainTextContent")
    path = node.get("plainTextPath") or ""
    if text is None and path.startswith("internal://"):
        member = members.get("sources/" + path[len("internal://"):].lower())
        if member is not None:
            from flows.privacy.untrusted import read_member

            text = read_member(archive, member, path).decode("utf-8-sig")
    selections = [RefiSelection(s.get("guid", ""), s.get("name", ""), int(s.get("startPosition", 0)),
                                int(s.get("endPosition", 0)), text_of(s, "Description"),
                                [(c.get("creatingUser"), _target(c)) for c in children(s, "Coding")])
                  for s in children(node, "PlainTextSelection")]
    return RefiSource(node.get("guid", ""), node.get("name", ""), text, selections, text_of(node, "Description"))


def _target(coding: ET.Element) -> str:
    ref = child(coding, "CodeRef")  # (an element without children is falsy: test for None)
    return ref.get("targetGUID", "") if ref is not None else ""


def read_refi(path: str | Path) -> RefiProject:
    """A ``.qdpx`` or ``.qdc`` file, by its suffix."""
    path = Path(path)
    if not path.is_file():
        raise RefiError(f"{path}: no such file; check the path")
    suffix = path.suffix.lower()
    if suffix == ".qdc":
        return read_qdc(path)
    if suffix == ".qdpx":
        return read_qdpx(path)
    raise RefiError(f"{path}: expected a REFI-QDA project (.qdpx) or codebook (.qdc)")
