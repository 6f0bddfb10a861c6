"""Writing and reading REFI-QDA XML: namespaces, element helpers, characters XML cannot hold."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

PROJECT_NS = "urn:QDA-XML:project:1.0"
CODEBOOK_NS = "urn:QDA-XML:codebook:1.0"
# Characters XML 1.0 cannot carry at all (control characters other than tab, LF, CR; lone
# surrogates; U+FFFE/U+FFFF): replaced by U+FFFD in names and descriptions.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def clean(text: str | None) -> str:
    """Text safe inside XML (see ``_NOT_XML``); line ends as ``\\n``."""
    return _NOT_XML.sub("\ufffd", (text or "").replace("\r\n", "\n").replace("\r", "\n"))


def element(parent: ET.Element | None, tag: str, attrib: dict | None = None, text: str | None = None) -> ET.Element:
    """A child element (or a root when ``parent`` is None), its attributes cleaned and in order."""
    attrs = {k: clean(str(v)) for k, v in (attrib or {}).items() if v is not None}
    node = ET.Element(tag, attrs) if parent is None else ET.SubElement(parent, tag, attrs)
    if text is not None:
        node.text = clean(text)
    return node


def to_bytes(root: ET.Element, namespace: str) -> bytes:
    """The document as UTF-8 bytes with an XML declaration, indented, in ``namespace``."""
    root.set("xmlns", namespace)
    ET.indent(root, space="  ")
    body = ET.tostring(root, encoding="unicode")
    return ('<?xml version="1.0" encoding="utf-8"?>\n' + body + "\n").encode("utf-8")


def local(tag: str) -> str:
    """A tag without its namespace: ``{urn:...}Code`` -> ``Code``."""
    return tag.rsplit("}", 1)[-1]


def children(node: ET.Element, name: str) -> list[ET.Element]:
    """Direct children with this local name, whatever their namespace."""
    return [c for c in node if local(c.tag) == name]


def child(node: ET.Element, name: str) -> ET.Element | None:
    found = children(node, name)
    return found[0] if found else None


def text_of(node: ET.Element, name: str) -> str | None:
    """The text of the first child ``name`` (None when absent or empty)."""
    found = child(node, name)
    return found.text if found is not None and found.text else None
