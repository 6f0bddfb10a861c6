"""Who may use the coding app: one secret token per coder and one for the reviewer.

Tokens are made afresh each time the app starts (``secrets.token_urlsafe``) and kept only in the
app's memory as SHA-256 digests; the plain token is printed once, in each person's link, and is
never written to the store, a log or a page. A presented token is compared with every known one
in constant time (``hmac.compare_digest``), so neither its value nor which identity it matches
leaks through timing. Writes need a CSRF token derived from the session's token by HMAC under a
key of this app run.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass, field

LOOPBACK = "127.0.0.1"
REVIEWER = "reviewer"  # the identity that adjudicates; it writes the coder `consensus`


@dataclass(frozen=True)
class Identity:
    """Who a token stands for: a coder (``role='coder'``) or the reviewer."""

    name: str
    role: str  # "coder" or "reviewer"


@dataclass
class Access:
    """The app run's tokens (as digests) and its CSRF key."""

    _digests: list[tuple[bytes, Identity]] = field(default_factory=list)
    _key: bytes = field(default_factory=lambda: secrets.token_bytes(32))

    @classmethod
    def issue(cls, coders: list[str], reviewer: str) -> tuple[Access, dict[str, str]]:
        """New tokens for ``coders`` and the reviewer; returns the access and {name: token} to print."""
        access, tokens = cls(), {}
        for name, role in [*((c, "coder") for c in coders), (reviewer, REVIEWER)]:
            token = secrets.token_urlsafe(32)
            access._digests.append((_digest(token), Identity(name, role)))
            tokens[name] = token
        return access, tokens

    def identify(self, token: str | None) -> Identity | None:
        """The identity of ``token``, or None; every known digest is compared, in constant time."""
        if not token or len(token) > 200:
            return None
        given, found = _digest(token), None
        for digest, identity in self._digests:
            if hmac.compare_digest(given, digest):
                found = identity
        return found

    def csrf(self, token: str) -> str:
        """The CSRF token of a session: HMAC of its token under this run's key."""
        return hmac.new(self._key, b"csrf\x00" + token.encode("utf-8"), hashlib.sha256).hexdigest()

    def check_csrf(self, token: str, presented: str | None) -> bool:
        """Whether ``presented`` is the session's CSRF token (constant time)."""
        return bool(presented) and hmac.compare_digest(self.csrf(token).encode(), str(presented).encode())


def _digest(token: str) -> bytes:
    return hashlib.sha256(token.encode("utf-8")).digest()


def bind_address(host: str | None) -> tuple[str, str | None]:
    """The address to listen on and a warning when it is not the loopback address."""
    if not host or host == LOOPBACK:
        return LOOPBACK, None
    return host, (f"warning: listening on {host}, not only on this computer ({LOOPBACK}): anyone who can reach "
                  "it and has a link can code; links are sent in clear over plain HTTP, so use it only on a "
                  "network you trust (or behind an HTTPS proxy)")
