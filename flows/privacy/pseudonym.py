"""Pseudonyms for people: keyed HMAC-SHA256 with a study secret kept outside the database.

The same account always gets the same pseudonym, in every export and after every refresh,
for as long as the study keeps its secret; without the secret nobody can compute (or check a
guess at) the pseudonym of a known account, which a plain hash of a public id would allow.

Pseudonyms are derived from the account's **id** (user id or DID), never its handle, because
handles change and ids do not. A handle is turned into its account's id first whenever the
store knows both (``Pseudonymizer.for_store``), so ``@DrMaya`` in a text, the author handle
``DrMaya`` and the author id ``339428177`` all become the same ``user_…``. A handle the store
cannot tie to an id is pseudonymised as a handle (case-insensitively); its pseudonym changes once
the store learns the account's id (a later ingest with its profile), and then stays.

The secret (``ETHNOFLOW_SECRET``, else the file ``<data>/.ethnoflow_secret``, created 0600 by
``ethnoflow init`` or on a store's first use) never appears in any output, log or message: it is
only ever passed to ``hmac``. A store that has withdrawn anyone records which secret it used
(:func:`key_fingerprint`, table ``study_key``); from then on a missing secret is an error rather
than a new one, and a different secret is refused, since under it the blocklist would match no
one and a withdrawn account would come back with the next ingest.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import secrets
from collections.abc import Mapping
from pathlib import Path

from flows.errors import UserError

ENV_SECRET = "ETHNOFLOW_SECRET"
SECRET_FILE = ".ethnoflow_secret"
PREFIX = "user_"
POST_PREFIX = "post_"
CACHE_SIZE = 1 << 18  # pseudonyms kept in memory (a mention is written many times)
DIGITS = 16  # hex digits kept: 64 bits, so 10^6 accounts collide with odds below 1 in 10^7
# A pseudonym this module made (so a second pass leaves it alone).
PSEUDONYM_RE = re.compile(r"\b(?:user|post)_[0-9a-f]{16}\b")
# An @mention as Twitter renders one (twitter-text's rule): after anything but a letter, digit or
# one of _!#$%&*@ -- so `.@x`, `(@x`, `@x:` are mentions and `maya@uni.edu` is not -- or after
# "RT"/"RT:" (`RT@x`). The name is a Twitter handle or a Bluesky domain handle (`@ana.bsky.social`).
MENTION_RE = re.compile(r"[@＠](?:(?<=(?<![A-Za-z0-9_!#$%&*@＠])[@＠])|(?<=(?<![A-Za-z0-9_+~.-])[Rr][Tt][@＠])"
                        r"|(?<=(?<![A-Za-z0-9_+~.-])[Rr][Tt]:[@＠]))"
                        r"(?P<h>[A-Za-z0-9_]{1,50}(?:\.[A-Za-z0-9][A-Za-z0-9-]*)*)")
URL_RE = re.compile(r"\bhttps?://\S+", re.IGNORECASE)
# A profile or status link names its account (and a status link its post): twitter.com/<handle>,
# twitter.com/<handle>/status/<id>, twitter.com/i/web/status/<id>, bsky.app/profile/<handle or DID>.
PROFILE_URL_RE = re.compile(
    r"(?i)(?P<site>\b(?:https?://)?(?:www\.|mobile\.)?(?:twitter\.com|x\.com)/)"
    r"(?:(?P<web>i/web/status/|i/status/)(?P<wid>[0-9]{1,20})"
    r"|(?!i/|search\b|hashtag/|home\b|intent/|share\b)(?P<h>[A-Za-z0-9_]{1,50})\b"
    r"(?:(?P<st>/status(?:es)?/)(?P<sid>[0-9]{1,20}))?)"
    r"|(?P<bsite>\b(?:https?://)?(?:www\.)?bsky\.app/profile/)(?P<bh>[A-Za-z0-9_.:%-]*[A-Za-z0-9_])")
# A DID (did:plc:..., did:web:...) and an AT-URI (at://<DID or handle>/<collection>/<rkey>).
DID_RE = re.compile(r"\bdid:[a-z]+:[A-Za-z0-9._%-]*[A-Za-z0-9_]")
AT_URI_RE = re.compile(r"\bat://(?P<who>[A-Za-z0-9._:%-]*[A-Za-z0-9_])(?P<rest>/[A-Za-z0-9._~:/-]*)?")


KEY_CHECK = "ethnoflow:key-check"


class SecretError(UserError):
    """The study secret cannot be read or created; the message never contains the secret."""


def load_secret(data_dir: Path, *, create: bool = True) -> bytes:
    """The study secret: ``$ETHNOFLOW_SECRET``, else ``data_dir/.ethnoflow_secret`` (made on first use).

    The file holds 32 random bytes as hex, readable by its owner only (0600). Keep it (and back
    it up) with the study: pseudonyms and the withdrawal blocklist depend on it.

    Args:
        create: make the file when it is missing (a new study); otherwise that is an error.

    Raises:
        SecretError: the file is missing (and not ``create``), cannot be read, is empty, or is
            readable by others.
    """
    env = os.environ.get(ENV_SECRET)
    if env:
        return env.encode("utf-8")
    path = Path(data_dir) / SECRET_FILE
    if not path.exists():
        if not create:
            raise SecretError(f"{path}: the study secret is missing, and this store's withdrawals are keyed by it; "
                              f"restore the file from the study's backup (or set ${ENV_SECRET} to it). A new secret "
                              "would bring withdrawn accounts back")
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="ascii") as handle:
            handle.write(secrets.token_hex(32) + "\n")
    if os.name == "posix" and path.stat().st_mode & 0o077:
        raise SecretError(f"{path}: the study secret is readable by other users; "
                          f"run `chmod 600 {path}`")
    try:
        value = path.read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError) as exc:
        raise SecretError(f"{path}: cannot read the study secret ({type(exc).__name__}); "
                          f"restore it from the study's backup or set ${ENV_SECRET}") from None
    if not value:
        raise SecretError(f"{path}: the study secret file is empty; restore it from the study's "
                          f"backup (a new secret would change every pseudonym)")
    return value.encode("utf-8")


def keyed_hash(secret: bytes, value: str) -> str:
    """HMAC-SHA256 of ``value`` under ``secret``, as hex (the withdrawal audit uses it too)."""
    return hmac.new(secret, value.encode("utf-8"), hashlib.sha256).hexdigest()


class Pseudonymizer:
    """Stable pseudonyms for account ids, handles and posts, and for the names written in a text.

    Args:
        secret: the study secret (:func:`load_secret`).
        accounts: handle -> account id for every account the store knows by both, so that a
            handle and its id give one pseudonym. Keys are compared case-insensitively.
    """

    def __init__(self, secret: bytes, accounts: Mapping[str, str] | None = None) -> None:
        self._secret = secret
        self._ids = {_norm(h): i for h, i in (accounts or {}).items() if h and i}
        self._cache: dict[tuple[str, str], str] = {}

    def __repr__(self) -> str:  # never show the secret, even in a traceback or debugger
        return f"Pseudonymizer(<secret>, {len(self._ids)} known handles)"

    @classmethod
    def for_store(cls, con, secret: bytes) -> Pseudonymizer:
        """A pseudonymizer that knows every (handle, id) pair in the store (``accounts_v``)."""
        rows = con.execute("SELECT handle, author_id FROM accounts_v WHERE handle IS NOT NULL "
                           "AND author_id IS NOT NULL AND author_id NOT LIKE '@%' "
                           "ORDER BY platform, author_id").fetchall()
        return cls(secret, dict(rows))

    def _digest(self, kind: str, value: str) -> str:
        found = self._cache.get((kind, value))
        if found is None:
            if len(self._cache) > CACHE_SIZE:
                self._cache.clear()
            found = self._cache[(kind, value)] = PREFIX + keyed_hash(self._secret, f"{kind}:{value}")[:DIGITS]
        return found

    def author(self, author_id: str | None) -> str | None:
        """The pseudonym of an account id (an ``@handle`` id, used when the data had no id,
        is treated as that handle)."""
        if author_id is None:
            return None
        if author_id.startswith("@"):
            return self.handle(author_id)
        return self._digest("account", author_id)

    def handle(self, handle: str | None) -> str | None:
        """The pseudonym of a handle: its account's, when the store ties it to an id."""
        if handle is None:
            return None
        key = _norm(handle)
        if PSEUDONYM_RE.fullmatch(key):
            return key  # already a pseudonym
        known = self._ids.get(key)
        return self._digest("account", known) if known else self._digest("handle", key)

    def post(self, platform: str, post_id: str | None) -> str | None:
        """The pseudonym of a post id (``post_…``); :func:`reveal_posts` maps it back."""
        if post_id is None:
            return None
        return POST_PREFIX + keyed_hash(self._secret, f"post:{platform}:{post_id}")[:DIGITS]

    def _name(self, handle: str) -> str:
        """A name as written after '@' or in a link: a DID, a handle, or a pseudonym already."""
        if handle.startswith("did:"):
            return self.author(handle)
        return self.handle(handle)

    def text(self, text: str | None, known_handles: Mapping[str, str] | None = None, *,
             remove_urls: bool = False) -> str | None:
        """``text`` with every name in it pseudonymised: @mentions in every form Twitter and
        Bluesky render, profile and status links (their post ids too), DIDs and AT-URIs.

        Args:
            known_handles: extra handle -> account id pairs for this call.
            remove_urls: replace every web link with ``[URL]`` (links can name or show people).
        """
        if text is None:
            return None
        if known_handles:
            saved, self._ids = self._ids, {**self._ids, **{_norm(h): i for h, i in known_handles.items()}}
            try:
                return self.text(text, remove_urls=remove_urls)
            finally:
                self._ids = saved
        low = text.lower()  # each pass only where its mark is present: most texts have none
        if "at://" in low:
            text = AT_URI_RE.sub(self._at_uri, text)
        if remove_urls:
            text = URL_RE.sub("[URL]", text)
        elif "twitter.com/" in low or "x.com/" in low or "bsky.app/" in low:
            text = PROFILE_URL_RE.sub(self._profile, text)
        if "did:" in low:
            text = DID_RE.sub(lambda m: self.author(m.group()), text)
        return MENTION_RE.sub(self._mention, text) if "@" in text or "＠" in text else text

    def _at_uri(self, m: re.Match) -> str:
        rest = m.group("rest") or ""
        if "/app.bsky.feed.post/" in rest + "/" and rest.count("/") >= 2:
            return self.post("bluesky", m.group())  # the stored id of a Bluesky post
        return "at://" + self._name(m.group("who")) + rest

    def _profile(self, m: re.Match) -> str:
        if m.group("bsite"):
            return m.group("bsite") + self._name(m.group("bh"))
        if m.group("web"):
            return m.group("site") + m.group("web") + self.post("twitter", m.group("wid"))
        out = m.group("site") + self.handle(m.group("h"))
        return out + (m.group("st") + self.post("twitter", m.group("sid")) if m.group("st") else "")

    def _mention(self, m: re.Match) -> str:
        name, rest = m.group("h"), ""
        if "." in name and _norm(name) not in self._ids:
            first, _, after = name.partition(".")
            # `@DrMaya.Thanks`: a Twitter handle ending a sentence, not a domain handle
            if _norm(first) in self._ids or (after[:1].isupper() and len(first) <= 15):
                name, rest = first, "." + after
        return "@" + self._name(name) + rest


def reveal_posts(con, secret: bytes, pseudonyms: list[str]) -> dict[str, tuple[str, str] | None]:
    """Map post pseudonyms back to (platform, post id), for the posts still in the store.

    Only the study's secret can do it (the pseudonym is a keyed hash): a post withdrawn since, or
    never in this store, maps to None.
    """
    wanted = {p.strip().lower() for p in pseudonyms}
    p = Pseudonymizer(secret)
    found: dict[str, tuple[str, str] | None] = dict.fromkeys(sorted(wanted))
    for platform, post_id in con.execute("SELECT platform, post_id FROM posts ORDER BY ALL").fetchall():
        key = p.post(platform, post_id)
        if key in wanted:
            found[key] = (platform, post_id)
    return found


def _norm(handle: str) -> str:
    return handle.strip().lstrip("@＠").lower()


def store_folder(con) -> Path:
    """The folder of a store's database file (``data/`` for an in-memory store)."""
    row = con.execute("SELECT path FROM duckdb_databases() WHERE database_name = current_database()").fetchone()
    return Path(row[0]).resolve().parent if row and row[0] else Path("data")


def key_fingerprint(secret: bytes) -> str:
    """Which secret this is, without revealing it: a keyed hash of a fixed text, 16 hex digits."""
    return keyed_hash(secret, KEY_CHECK)[:DIGITS]


def _recorded(con) -> tuple[str | None, bool]:
    """(the secret's fingerprint this store recorded, whether it has withdrawn anyone)."""
    try:
        row = con.execute("SELECT (SELECT min(fingerprint) FROM study_key), "
                          "(SELECT count(*) > 0 FROM withdrawal_blocklist)").fetchone()
    except Exception:  # a store opened read-only before its migrations ran: nothing recorded yet
        return None, False
    return row[0], bool(row[1])


def remember_key(con, secret: bytes) -> None:
    """Record which secret the store's withdrawals are keyed by (call inside the writing transaction)."""
    con.execute("INSERT OR IGNORE INTO study_key VALUES (?)", [key_fingerprint(secret)])


def secret_for(con) -> bytes:
    """The study secret of the store ``con``: in the study's ``data/`` folder when the store is the
    study's (where reports look too), else beside the database file (see :func:`load_secret`).

    Raises:
        SecretError: the store has withdrawn accounts and its secret is missing, or the secret in
            effect is not the one the store recorded (see the module docstring).
    """
    from flows.study.resolve import study_of_store

    study = study_of_store(con)
    folder = study.path("data") if study is not None else store_folder(con)
    recorded, withdrawn = _recorded(con)
    secret = load_secret(folder, create=recorded is None and not withdrawn)
    if recorded is not None and key_fingerprint(secret) != recorded:
        where = f"${ENV_SECRET}" if os.environ.get(ENV_SECRET) else str(Path(folder) / SECRET_FILE)
        raise SecretError(f"{where}: not the study secret this store was made with (its withdrawals and "
                          "pseudonyms are keyed by that one); restore the study's secret file from its backup, "
                          f"or unset ${ENV_SECRET} if it points at another study's")
    return secret
