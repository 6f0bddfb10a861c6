"""Where a selection starts and ends: the counting convention, and converting between them.

The REFI-QDA 1.5 text defines a text selection by Unicode code points counted from 0. NVivo
(the fixture ``oltas0517.qdpx``, NVivo 12.6) counts **UTF-16 code units** of the text without
its byte-order mark instead: an emoji outside the Basic Multilingual Plane (😤, 👍, most emoji)
is one code point but two UTF-16 units, so after the first such emoji the two conventions
disagree, and code-point positions select the wrong span in NVivo. The end position is
exclusive in both (``text[start:end]``); a CRLF counts as two.

ethnoflow writes UTF-16 positions by default (``--qdpx-positions utf16``: NVivo, and the .NET
and Java programs that count as it does) or code points (``codepoint``: programs that follow
the text of the standard, such as QualCoder), and records the choice in the project's
``<Description>`` as ``ethnoflow-positions=utf16``. Source files are UTF-8 without a BOM with
``\\n`` line ends, so the two conventions differ only by astral characters.
"""

from __future__ import annotations

from bisect import bisect_left

CONVENTIONS = ("utf16", "codepoint")


def units(text: str, convention: str) -> int:
    """The length of ``text`` in the convention's units."""
    if convention == "codepoint":
        return len(text)
    return len(text) + sum(1 for c in text if ord(c) > 0xFFFF)


class PositionMap:
    """Convert positions in one text between code-point indexes and a convention's units."""

    def __init__(self, text: str, convention: str) -> None:
        if convention not in CONVENTIONS:
            raise ValueError(f"positions are counted as {' or '.join(CONVENTIONS)}, not {convention!r}")
        self.convention = convention
        self.length = len(text)
        self._astral = [i for i, c in enumerate(text) if ord(c) > 0xFFFF] if convention == "utf16" else []

    def to_units(self, index: int) -> int:
        """The position of code-point ``index`` in this convention."""
        return index + bisect_left(self._astral, index)

    def to_index(self, position: int) -> int:
        """The code-point index at ``position`` (a position inside a surrogate pair rounds up)."""
        if not self._astral:
            return max(0, min(position, self.length))
        lo, hi = 0, self.length
        while lo < hi:  # the first index whose position is >= the one given
            mid = (lo + hi) // 2
            if self.to_units(mid) < position:
                lo = mid + 1
            else:
                hi = mid
        return lo
