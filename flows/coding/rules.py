"""Rule matching (keywords, hashtags, regex patterns of a code) and the ``auto:rules`` coder.

The same matching backs a codebook's ``rule_coverage`` validation and the machine coder, so a
codebook that claims ``rule_coverage: rules`` means exactly "the ``auto:rules`` coder finds
every positive example".
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Protocol


class Code(Protocol):
    """What matching reads of a code (a `flows.coding.codebook.Code`, which imports this module)."""

    id: str
    keywords: Sequence[str]
    hashtags: Sequence[str]
    patterns: Sequence[str]


class Codebook(Protocol):
    """What the coder records of its codebook (a `flows.coding.codebook.Codebook`)."""

    content_hash: str

RULES_VERSION = "rules/1"  # bump when matching changes: every post is then re-coded


def compile_rules(code: Code) -> list[tuple[str, re.Pattern[str]]]:
    """Each keyword, hashtag and pattern of one code, as written, with the regex that applies it.

    Keywords match whole words (any whitespace between their words), ignoring case unless the
    keyword has a capital letter (``URiM`` is case-sensitive, ``journal club`` is not). Hashtags
    match the whole tag, ignoring case. Patterns are searched ignoring case; write ``(?-i:...)``
    for a case-sensitive part.
    """
    rules = []
    for keyword in code.keywords:
        body = r"\s+".join(map(re.escape, keyword.split()))
        flags = 0 if any(ch.isupper() for ch in keyword) else re.IGNORECASE
        rules.append((keyword, re.compile(rf"(?<!\w){body}(?!\w)", flags)))
    rules += [(tag, re.compile(rf"(?<!\w){re.escape(tag)}(?!\w)", re.IGNORECASE))
              for tag in code.hashtags]
    rules += [(pattern, re.compile(pattern, re.IGNORECASE)) for pattern in code.patterns]
    return rules


def rule_hits(code: Code, text: str) -> list[str]:
    """The rules of ``code`` (as written) that match ``text``."""
    return [rule for rule, regex in compile_rules(code) if regex.search(text)]


class RulesCoder:
    """The ``auto:rules`` coder: a code is present when any of its rules matches.

    The score is the number of distinct rules that match (0 when none), so a post caught by a
    hashtag and a pattern scores 2. Inspect a decision with :func:`rule_hits`.
    """

    name = "auto:rules"

    def __init__(self, codebook: Codebook, codes: Iterable[Code]) -> None:
        self.codes = list(codes)
        self._compiled = {code.id: compile_rules(code) for code in self.codes}
        self.config = {"method": RULES_VERSION, "codebook": codebook.codes_hash}

    def hit_counts(self, texts: list[str]) -> dict[str, list[int]]:
        """Per code id, the number of its rules matching each text."""
        return {code_id: [sum(1 for _, rx in rules if rx.search(t or "")) for t in texts]
                for code_id, rules in self._compiled.items()}

    def score(self, texts: list[str]) -> dict[str, tuple[list[int], list[float]]]:
        """Per code id, ``(values, scores)`` aligned with ``texts``."""
        return {code_id: ([int(n > 0) for n in counts], [float(n) for n in counts])
                for code_id, counts in self.hit_counts(texts).items()}
