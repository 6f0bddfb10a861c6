"""Reading files other programs made, without trusting them: zips, XML and YAML.

Researchers import what NVivo, ATLAS.ti, MAXQDA, Excel or a colleague wrote (``.qdpx``, ``.qdc``,
``.xlsx`` sheets, codebooks, ``study.yaml``). Each of those formats can carry an attack:

- **zips** (QDPX, XLSX): a member named ``../../x`` (zip-slip), or a few kilobytes that inflate to
  gigabytes (a zip bomb). Nothing is ever extracted to disk; :func:`open_zip` refuses unsafe names,
  more than :data:`MAX_MEMBERS` members and declared sizes past :data:`MAX_UNZIPPED`, and
  members that inflate more than :data:`MAX_RATIO` times (past :data:`RATIO_FLOOR`), and
  :func:`read_member` stops reading past its limit, since a zip's declared sizes can lie (Python's
  zipfile, which openpyxl uses too, never returns more than a member declares);
- **XML** (QDE, QDC): external entities (XXE, which read local files or call out) and entity
  expansion (billion laughs): :func:`parse_xml` parses with ``defusedxml``, which refuses both,
  and refuses elements nested past :data:`MAX_XML_DEPTH` (readers walk the tree recursively);
- **YAML** (codebooks, study files, column mappings): ``!!python/...`` tags that run code, and
  alias bombs (``&a [*a, *a, ...]`` nested, small on disk and exponential once expanded):
  :class:`SafeLoader` is PyYAML's safe loader (no tags beyond plain data) that also refuses a
  document whose aliases expand it past a million values.

Every refusal is an :class:`UntrustedFileError` naming the file and what to do.
"""

from __future__ import annotations

import os
import zipfile
from pathlib import Path, PurePosixPath

import yaml

from flows.errors import UserError

MAX_UNZIPPED = 1 << 30   # 1 GiB: bytes a zip may declare, all members together
MAX_MEMBER = 512 << 20   # 512 MiB: bytes read from one member
MAX_MEMBERS = 100_000
# Past RATIO_FLOOR bytes, a member may inflate to at most MAX_RATIO times its compressed size:
# XML and text compress 5-30 times; a bomb a thousand times (1 MB of zip, 1 GB of XML).
MAX_RATIO = 100
RATIO_FLOOR = 16 << 20
MAX_XML_DEPTH = 200  # elements inside elements; REFI-QDA codebooks nest a few levels
MAX_YAML_NODES = 1_000_000  # values a codebook or study file may expand to, aliases expanded


class UntrustedFileError(UserError):
    """A file refused because it could harm the machine or the study, explained with the fix."""


def open_zip(path: Path, what: str) -> zipfile.ZipFile:
    """A zip, after checking its member names and declared sizes (see the module docstring).

    Raises:
        UntrustedFileError: an unsafe member name, too many members, or too much to inflate.
        zipfile.BadZipFile, OSError: not a zip at all (callers explain that in their own words).
    """
    archive = zipfile.ZipFile(path)
    members = archive.infolist()
    if len(members) > MAX_MEMBERS:
        archive.close()
        raise UntrustedFileError(f"{path}: {len(members):,} files inside; a {what} has far fewer. "
                                 "Export it again from the program that made it")
    for info in members:
        name = PurePosixPath(info.filename.replace("\\", "/"))
        if name.is_absolute() or ".." in name.parts or (name.parts and ":" in name.parts[0]):
            archive.close()
            raise UntrustedFileError(f"{path}: holds a file named {info.filename!r}, which points outside "
                                     f"the archive (a zip-slip attack?); a {what} never does. Do not use this file")
    for info in members:
        if info.file_size > max(RATIO_FLOOR, MAX_RATIO * info.compress_size):
            archive.close()
            times = info.file_size // max(info.compress_size, 1)
            raise UntrustedFileError(f"{path}: {info.filename} would inflate {times:,} times, to "
                                     f"{info.file_size / 2**20:,.0f} MiB (a zip bomb?); a {what} never "
                                     "compresses like that. Do not use this file")
    declared = sum(i.file_size for i in members)
    if declared > MAX_UNZIPPED:
        archive.close()
        raise UntrustedFileError(f"{path}: would inflate to {declared / 2**30:.1f} GiB (more than "
                                 f"{MAX_UNZIPPED / 2**30:.0f} GiB; a zip bomb?); a {what} this large cannot be "
                                 "imported. Split the project or export fewer sources")
    return archive


def read_member(archive: zipfile.ZipFile, name: str, path: Path, limit: int | None = None) -> bytes:
    """A member's bytes, read in chunks and stopped past ``limit`` (default :data:`MAX_MEMBER`):
    a zip's declared sizes can lie."""
    out: list[bytes] = []
    _inflate(archive, name, path, MAX_MEMBER if limit is None else limit, out.append)
    return b"".join(out)


def _inflate(archive: zipfile.ZipFile, name: str, path: Path, limit: int, keep) -> None:
    """Pass a member's bytes to ``keep`` in chunks; stop past ``limit`` or past MAX_RATIO times
    its compressed size (the compressed bytes are really in the file, whatever it declares)."""
    info = archive.getinfo(name)
    packed = min(info.compress_size, os.path.getsize(archive.filename)) if archive.filename else info.compress_size
    limit = min(limit, max(RATIO_FLOOR, MAX_RATIO * packed))
    total = 0
    with archive.open(info) as handle:
        while chunk := handle.read(1 << 20):
            total += len(chunk)
            if total > limit:
                raise UntrustedFileError(f"{path}: {name} inflates past {limit / 2**20:,.0f} MiB (a zip bomb?); "
                                         "refused. Export it again, or in parts")
            keep(chunk)


def parse_xml(data: bytes, path: Path):
    """An XML document as an ElementTree element, without DTD entities or external references.

    Raises:
        UntrustedFileError: the document declares entities or external references (XXE, billion laughs).
        xml.etree.ElementTree.ParseError: it is not well-formed (callers explain that).
    """
    from defusedxml import DefusedXmlException
    from defusedxml.ElementTree import fromstring

    try:
        root = fromstring(data, forbid_dtd=False, forbid_entities=True, forbid_external=True)
    except DefusedXmlException as exc:
        raise UntrustedFileError(f"{path}: the XML declares entities or external references ({type(exc).__name__}); "
                                 "REFI-QDA files never need them, and they can read local files or exhaust "
                                 "memory. Export the file again from the program that made it") from None
    _check_depth(root, path)
    return root


def _check_depth(root, path: Path) -> None:
    """Refuse elements nested past MAX_XML_DEPTH (walked without recursion: readers recurse)."""
    stack = [(root, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_XML_DEPTH:
            raise UntrustedFileError(f"{path}: the XML nests elements more than {MAX_XML_DEPTH} levels deep "
                                     "(<{}>); no REFI-QDA file does. Export it again from the program that "
                                     "made it".format(node.tag.rpartition("}")[2]))
        stack.extend((c, depth + 1) for c in node)


class SafeLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):
    """PyYAML's safe loader (plain data only: ``!!python/...`` tags are refused; libyaml's C parser
    where PyYAML has it) that refuses a document whose aliases (``*name``) expand it past
    :data:`MAX_YAML_NODES` values. Aliases as such are fine (``yaml.safe_dump`` writes them for
    repeated values); a few lines that expand into millions of values are an alias bomb."""

    def get_single_node(self):
        node = super().get_single_node()
        sizes: dict[int, int] = {}
        if node is not None and _expanded(node, sizes) > MAX_YAML_NODES:
            raise yaml.composer.ComposerError(
                None, None, f"its aliases (*name) expand it to more than {MAX_YAML_NODES:,} values (an alias "
                "bomb?); write the values out instead", node.start_mark)
        return node


def _expanded(node, sizes: dict[int, int]) -> int:
    """Values in ``node`` with every alias expanded, counted once per distinct node (so counting
    a bomb is as cheap as reading it)."""
    if id(node) in sizes:
        return sizes[id(node)]
    sizes[id(node)] = 1  # a node that contains itself counts once
    if isinstance(node, yaml.SequenceNode):
        total = 1 + sum(_expanded(child, sizes) for child in node.value)
    elif isinstance(node, yaml.MappingNode):
        total = 1 + sum(_expanded(k, sizes) + _expanded(v, sizes) for k, v in node.value)
    else:
        total = 1
    sizes[id(node)] = total
    return total
