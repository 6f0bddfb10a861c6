"""Who the report names, and how quoted posts are shown: pseudonyms and quote masking.

With ``pseudonymise`` on, every handle the report prints (tables, charts, bylines, @mentions in
quoted text, reject reasons, topic keywords) becomes a keyed pseudonym from
:mod:`flows.privacy.pseudonym`, the same one exports use, and display names are not shown. Bare
handles of the studied accounts written without "@" are replaced too. ``mask_quotes`` removes
@handles and links from quoted posts and leaves the author out of their byline.
"""

from __future__ import annotations

import re
from pathlib import Path

from flows.report.settings import ReportError, ReportSettings

MENTION_RE = re.compile(r"(?<![\w@])@[A-Za-z0-9_](?:[A-Za-z0-9_.-]*[A-Za-z0-9_])?")
LINK_RE = re.compile(r"(?i)\b(?:https?://|www\.|t\.co/|pic\.twitter\.com/|bsky\.app/)\S*")
WORD_RE = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]*[A-Za-z0-9_]|[A-Za-z0-9_]")
QUOTE_CHARS = 500


class Privacy:
    """Applies the report's pseudonymisation and quote-masking settings to text it prints.

    Args:
        settings: the report settings (``pseudonymise``, ``mask_quotes``).
        data_dir: where the study secret lives (``flows.privacy.pseudonym.load_secret``).
        con: the store; every (handle, id) pair it knows makes a handle and its id one pseudonym.
        studied_handles: the studied accounts' handles, replaced even without "@".
    """

    def __init__(self, settings: ReportSettings, data_dir: Path, con, studied_handles: list[str]) -> None:
        self.on, self.mask = settings.pseudonymise, settings.mask_quotes
        self.shows_names = not self.on
        self.studied = {h.lower(): h for h in studied_handles if h}
        self._p = None
        if self.on:
            from flows.privacy.pseudonym import Pseudonymizer, SecretError, load_secret

            try:
                secret = load_secret(Path(data_dir))
            except SecretError as exc:
                raise ReportError(f"{exc} (pseudonymising needs the study secret; or show handles with "
                                  "pseudonymise: false / --show-handles)") from None
            self._p = Pseudonymizer.for_store(con, secret)

    def handle(self, handle: str | None) -> str:
        """How an account is named: its @handle, or its pseudonym."""
        if not handle:
            return "(unknown)"
        return self._p.handle(handle) if self._p else f"@{handle}"

    def name(self, display_name: str | None) -> str | None:
        """A display name, or nothing when pseudonymising (names identify people)."""
        return None if self.on else display_name

    def text(self, text: str | None) -> str:
        """Free text that may name accounts (reject reasons, labels): handles pseudonymised."""
        if not text or not self._p:
            return text or ""
        return WORD_RE.sub(self._bare, self._p.text(text))

    def words(self, words: list[str]) -> list[str]:
        """Keywords: a keyword that is a studied account's handle becomes its pseudonym."""
        return [self._bare_word(w) for w in words] if self._p else list(words)

    def quote(self, text: str | None) -> str:
        """A quoted post: pseudonymised, masked on request, on one line, at most 500 characters."""
        out = self.text(text)
        if self.mask:
            out = MENTION_RE.sub("@user", LINK_RE.sub("[link]", out))
        out = " ".join(out.split())
        return out if len(out) <= QUOTE_CHARS else out[:QUOTE_CHARS - 1].rstrip() + "…"

    def byline(self, handle: str | None, *parts: str) -> str:
        """Who/when/what of a quoted post; no author when quotes are masked."""
        who = [] if self.mask else [self.handle(handle)]
        return " · ".join([*who, *[p for p in parts if p]])

    def _bare(self, match: re.Match) -> str:
        return self._bare_word(match.group(0))

    def _bare_word(self, word: str) -> str:
        handle = self.studied.get(word.lower().lstrip("@"))
        return self._p.handle(handle) if handle and self._p else word
