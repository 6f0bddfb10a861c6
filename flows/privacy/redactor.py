"""The one redaction layer every output goes through: reports, exports, networks, the CLI, logs.

``Redactor.for_store(con, on=True)`` pseudonymises; ``Redactor.off()`` passes names through
(still escaping nothing: escaping is each writer's business). With pseudonymisation on, nothing
leaves carrying

- a **handle**, in every form Twitter and Bluesky render a mention (``@x``, ``.@x``, ``RT@x``,
  ``@x:``, ``@x.bsky.social`` and custom domains), in profile and status links
  (``twitter.com/x/status/…``, ``bsky.app/profile/…``), or written bare;
- a **display name** (shown nowhere; found in prose, see :mod:`flows.privacy.names`);
- a **user id or DID**, and a **post id** (every post id becomes a keyed ``post_…`` pseudonym,
  which :func:`flows.privacy.pseudonym.reveal_posts` maps back with the study's secret).

Topic keywords and labels lose any word that is a name or a pseudonym rather than having it
replaced: a topic is described by what is said, not by whom. The id-list export is the one
sanctioned exception: it carries real post ids, and says so.
"""

from __future__ import annotations

import re

import duckdb

from flows.errors import UserError
from flows.privacy.names import WORD_RE, StoreNames, store_names
from flows.privacy.pseudonym import DID_RE, MENTION_RE, PSEUDONYM_RE, URL_RE, Pseudonymizer, SecretError, secret_for

# Tokens of running text: a word, with inner dots or hyphens (a Bluesky handle, a domain).
TOKEN_RE = re.compile(r"\w+(?:[.-]\w+)*")
LINK_RE = re.compile(r"(?i)\b(?:https?://|www\.|t\.co/|pic\.twitter\.com/|bsky\.app/)\S*")
QUOTE_CHARS = 500
# What an API error names, in brackets: `User has been suspended: [leeseunggi]`, `... the Tweet
# with referenced_tweets.id: [1483436591376965633]`.
BRACKETED_RE = re.compile(r"\[([A-Za-z0-9_.:-]{1,64})\]")
HANDLE_RE = re.compile(r"[A-Za-z0-9_]{1,15}")


class RedactionError(UserError):
    """Pseudonymising cannot be done (no study secret), explained with the fix."""


class Redactor:
    """Names in, pseudonyms out (or names unchanged when off).

    Args:
        pseudonymizer: the keyed pseudonyms; None: pseudonymisation off.
        names: the store's names (:func:`flows.privacy.names.store_names`), for names written bare.
        remove_urls: replace every web link in texts by ``[URL]``.
        mask_quotes: quoted posts (reports) lose @handles and links and their byline's author.
    """

    def __init__(self, pseudonymizer: Pseudonymizer | None = None, names: StoreNames | None = None, *,
                 remove_urls: bool = False, mask_quotes: bool = False) -> None:
        self._p, self._names = pseudonymizer, names or StoreNames()
        self.remove_urls, self.mask = remove_urls, mask_quotes

    def __repr__(self) -> str:
        return f"Redactor(on={self.on})"

    @classmethod
    def off(cls, *, mask_quotes: bool = False) -> Redactor:
        """A redactor that shows names as they are."""
        return cls(None, mask_quotes=mask_quotes)

    @classmethod
    def for_store(cls, con: duckdb.DuckDBPyConnection, *, on: bool = True, secret: bytes | None = None,
                  remove_urls: bool = False, mask_quotes: bool = False) -> Redactor:
        """The redactor of a store: every handle, name and id it holds (``on``), or none.

        Raises:
            RedactionError: pseudonymising needs the study secret and it cannot be read.
        """
        if not on:
            return cls.off(mask_quotes=mask_quotes)
        try:
            secret = secret if secret is not None else secret_for(con)
        except SecretError as exc:
            raise RedactionError(f"{exc} (pseudonymising needs the study secret; or show handles "
                                 "with pseudonymize: false / --show-handles)") from None
        names = store_names(con)
        return cls(Pseudonymizer(secret, names.handles), names, remove_urls=remove_urls, mask_quotes=mask_quotes)

    @property
    def on(self) -> bool:
        """Whether names are pseudonymised."""
        return self._p is not None

    @property
    def shows_names(self) -> bool:
        """Whether display names may be shown (only with pseudonymisation off)."""
        return self._p is None

    # -- identifiers -------------------------------------------------------------------------
    def author(self, author_id: str | None) -> str | None:
        """An account id (user id, DID, or '@handle'), or its pseudonym."""
        return self._p.author(author_id) if self._p and author_id else author_id

    def handle(self, handle: str | None) -> str:
        """How an account is named in prose: ``@handle``, or its pseudonym."""
        if not handle:
            return "(no handle)"
        return self._p.handle(handle) if self._p else "@" + handle.lstrip("@")

    def account(self, author_id: str | None, handle: str | None) -> str:
        """An account's label: its handle (else its id), or its pseudonym."""
        if self._p:
            return self._p.author(author_id) if author_id else self._p.handle(handle or "unknown")
        return handle or author_id or "(no handle)"

    def name(self, display_name: str | None) -> str | None:
        """A display name, or nothing when pseudonymising."""
        return None if self._p else display_name

    def post(self, platform: str, post_id: str | None) -> str | None:
        """A post id, or its keyed pseudonym."""
        return self._p.post(platform, post_id) if self._p else post_id

    # -- text --------------------------------------------------------------------------------
    def text(self, text: str | None) -> str | None:
        """Free text (a post, a reason, a file name, a label) with every name in it pseudonymised."""
        if text is None or not self._p:
            return URL_RE.sub("[URL]", text) if text and self.remove_urls else text
        out = self._p.text(text, remove_urls=self.remove_urls)
        present = set(WORD_RE.findall(out.lower()))  # the fast path: most texts name nobody bare
        if present & self._names.firsts:
            out = self._phrases(out, present)
        return TOKEN_RE.sub(self._token, out) if present & self._names.prose else out

    def _token(self, m: re.Match) -> str:
        token = m.group()
        if PSEUDONYM_RE.fullmatch(token):
            return token
        key = self._names.in_prose(token)
        if key is not None:
            return self._p.author(key)
        if "." in token or "-" in token:  # a dotted handle not known whole: look at its parts
            return re.sub(r"\w+", lambda w: self._token(w), token) if self._parts_named(token) else token
        return token

    def _parts_named(self, token: str) -> bool:
        return any(self._names.in_prose(w) is not None for w in WORD_RE.findall(token))

    def _phrases(self, text: str, present: set[str]) -> str:
        """Display names of several words, written as a run of words (any case, any punctuation)."""
        wanted: dict[str, list[tuple[tuple[str, ...], str]]] = {}
        for first in present & self._names.firsts:
            found = [(n, k) for n, k in self._names.phrases[first] if set(n) <= present]
            if found:
                wanted[first] = found
        if not wanted:
            return text
        words = list(WORD_RE.finditer(text))
        out, last, i = [], 0, 0
        while i < len(words):
            hit = self._phrase_at(words, i, wanted)
            if hit:
                out += [text[last:words[i].start()], self._p.author(hit[1])]
                last, i = words[i + hit[0] - 1].end(), i + hit[0]
            else:
                i += 1
        return "".join(out) + text[last:] if out else text

    @staticmethod
    def _phrase_at(words: list[re.Match], i: int, wanted: dict) -> tuple[int, str] | None:
        for name, key in wanted.get(words[i].group().lower(), ()):
            n = len(name)
            if i + n <= len(words) and all(words[i + j].group().lower() == name[j] for j in range(n)) \
                    and _close(words[i:i + n]):
                return n, key
        return None

    def reason(self, text: str | None) -> str | None:
        """A reject reason: what an API error names in brackets (an account by handle or id, a post
        by id) is pseudonymised too, known to the store or not."""
        if text is None or not self._p:
            return text

        def one(m: re.Match) -> str:
            value, before = m.group(1), text[max(0, m.start() - 40):m.start()].lower()
            if value.isdigit():
                return "[" + (self.author(value) if "user" in before else self.post("twitter", value)) + "]"
            return "[" + self._p.handle(value) + "]" if HANDLE_RE.fullmatch(value) else m.group()

        return self.text(BRACKETED_RE.sub(one, text))

    def quote(self, text: str | None) -> str:
        """A quoted post: pseudonymised, masked on request, on one line, at most 500 characters."""
        out = self.text(text) or ""
        if self.mask:
            out = MENTION_RE.sub("@user", LINK_RE.sub("[link]", out))
        out = " ".join(out.split())
        return out if len(out) <= QUOTE_CHARS else out[:QUOTE_CHARS - 1].rstrip() + "…"

    def byline(self, handle: str | None, *parts: str) -> str:
        """Who/when/what of a quoted post; no author when quotes are masked."""
        who = [] if self.mask else [self.handle(handle)]
        return " · ".join([*who, *[p for p in parts if p]])

    # -- topics ------------------------------------------------------------------------------
    def named(self, word: str) -> bool:
        """Whether a keyword names someone: a handle, a one-word name, an id, a DID, a pseudonym."""
        w = word.strip().lstrip("@＠#＃")
        return bool(PSEUDONYM_RE.search(w) or DID_RE.search(w) or "@" in word or "/" in w
                    or self._names.in_prose(w) is not None
                    or any(self._names.in_prose(part) is not None for part in WORD_RE.findall(w) if len(part) > 2))

    def words(self, words: list[str]) -> list[str]:
        """Topic keywords without the ones that name someone (pseudonymising: names are dropped),
        nor the words that, together, spell a display name ("giorgia", "meloni")."""
        if not self._p:
            return list(words)
        kept = [w for w in words if not self.named(w)]
        parts = {w: set(WORD_RE.findall(w.lower())) for w in kept}  # a phrase keyword ("giorgia meloni") too
        low = set().union(*parts.values()) if parts else set()
        spelled = {part for w in low for name, _ in self._names.phrases.get(w, ()) if set(name) <= low
                   for part in name}
        return [w for w in kept if not parts[w] & spelled]

    def topic_label(self, topic: int, label: str | None, keywords: list[str]) -> str:
        """A topic's label: made of its keywords, it is made again from the ones that name nobody;
        a code's label or a researcher's name is pseudonymised as text."""
        label = label or ""
        if not self._p:
            return label
        if label == ", ".join(keywords[:3]) or all(p.strip() in keywords for p in label.split(",")):
            clean = self.words(keywords)
            kept = [p.strip() for p in label.split(",") if p.strip() in clean]
            if sum(len(p.split()) for p in kept) >= 2:  # the label's own words, less the names
                return ", ".join(kept)
            return ", ".join(clean[:3]) or f"topic {topic}"
        return self.text(label) or ""


# What the CLI's listings call people, posts and prose (`roles`, `superusers`, `chats`, `network`,
# `topics show`): the keys :meth:`Redactor.document` redacts, by what they hold.
PERSON_KEYS = {"handle", "mentor", "mentee", "host", "hosts", "participants", "sponsor", "trainee", "author",
               "account"}
ID_KEYS = {"author_id", "source_id", "target_id", "in_reply_to_author_id"}
POST_KEYS = {"post_id", "work_post_id", "in_reply_to_post_id", "reposted_post_id", "quoted_post_id"}
TEXT_KEYS = {"text", "evidence", "bio", "reason", "query", "note", "error"}
HIDDEN_KEYS = {"display_name", "name"}


def _post_platform(post_id: str) -> str:
    return "bluesky" if post_id.startswith("at://") else "twitter"


def redact_document(doc, redactor: Redactor):
    """A JSON-able listing with its people, posts and prose redacted by key (see PERSON_KEYS...);
    a topic's label and keywords lose names. Unchanged when the redactor is off."""
    if not redactor.on:
        return doc
    if isinstance(doc, list):
        return [redact_document(v, redactor) for v in doc]
    if not isinstance(doc, dict):
        return doc
    out = {}
    for key, value in doc.items():
        if key in PERSON_KEYS:
            out[key] = [redactor.handle(v) for v in value] if isinstance(value, list) else \
                (redactor.handle(value) if isinstance(value, str) else value)
        elif key in ID_KEYS and isinstance(value, str):
            out[key] = redactor.author(value)
        elif key in POST_KEYS and isinstance(value, str):
            out[key] = redactor.post(doc.get("platform") or _post_platform(value), value)
        elif key in TEXT_KEYS:
            out[key] = [redactor.text(v) for v in value] if isinstance(value, list) else \
                (redactor.text(value) if isinstance(value, str) else value)
        elif key in HIDDEN_KEYS:
            out[key] = None
        elif key == "assignments" and isinstance(value, dict):  # post id -> topic
            out[key] = {redactor.post(_post_platform(k), k): v for k, v in value.items()}
        else:
            out[key] = redact_document(value, redactor)
    if {"topic", "label", "keywords"} <= set(doc):
        keywords = list(doc.get("keywords") or [])
        out["label"], out["keywords"] = redactor.topic_label(doc["topic"], doc["label"], keywords), \
            redactor.words(keywords)
    return out


def _close(words: list[re.Match]) -> bool:
    """Words of one name: nothing but spaces and punctuation between them (at most 3 characters)."""
    return all(words[j + 1].start() - words[j].end() <= 3 for j in range(len(words) - 1))
