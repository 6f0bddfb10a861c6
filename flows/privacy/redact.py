"""Removing one account from stored text and from raw API payloads, keeping everyone else.

Used by withdrawal (:mod:`flows.privacy.forget`). Raw records hold whole API pages, so an account's
items sit beside other people's. A record is therefore *redacted*, not dropped: every JSON
object that is the account's (its posts, its reposted posts, its user object, mentions of it)
is removed; other people's objects stay, with any exact reference to the account (its id, one
of its post ids) set to null; and every remaining string has the account's handle, id and post
ids overwritten with ``•`` characters of the same length, so other people's texts keep their
length and the entity offsets into them stay right. A record left with nothing of anyone's is
dropped. What cannot be parsed as JSON (or the JSON inside an archive's ``window.YTD...``
wrapper) is masked as text.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

MASK = "•"
# Keys (lower-cased, punctuation as '_') whose value names an object's author or the object itself.
AUTHOR_KEYS = {"author_id", "user_id", "user_id_str", "did", "author_did", "user_did", "authordid",
               "from_user_id", "from_user_id_str"}
HANDLE_KEYS = {"username", "screen_name", "handle", "author_username", "author_handle", "user_handle",
               "user_screen_name", "from_user", "from_user_name"}
SELF_KEYS = {"id", "id_str", "uri", "tweet_id", "post_id"}
# A child that is the account's makes its parent the account's: a v1 tweet's `user`, a post
# view's `author`, a repost's `retweeted_status`, a feed item's `post`, an archive's `tweet`.
OWNER_KEYS = ("user", "author", "retweeted_status", "post", "tweet")
# A bare reference to another object (a reply's parent, a quoted post): nulled, never removed.
REFERENCE_KEYS = {"type", "id", "id_str", "uri", "cid", "$type"}
_NUMBER = re.compile(r"(?<![0-9])[0-9]{5,20}(?![0-9])")


def _alternatives(names: set[str]) -> str:
    ordered = sorted((n for n in names if n), key=len, reverse=True)
    return "|".join(re.escape(n) for n in ordered) or r"(?!x)x"


def _key(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")


def distinctive(handle: str) -> bool:
    """A handle no one writes as an ordinary word: with a digit, '_', '.', or inner capitals."""
    return bool(re.search(r"[0-9_.]", handle) or re.search(r"[a-z][A-Z]", handle))


@dataclass
class Target:
    """The account being removed: its ids, handles (any case) and the ids of its posts.

    ``bare`` are the handles also masked as bare words in prose (default: the distinctive ones,
    see :func:`distinctive`); every handle is masked after '@', '/', ':', '=' or a URL escape
    (``from%3Ahandle``) and as a whole value, so a handle like ``doctor`` does not blank the word
    doctor in everyone's posts.
    """

    ids: set[str]
    handles: set[str]
    posts: set[str] = field(default_factory=set)
    bare: set[str] | None = None

    def __post_init__(self) -> None:
        if self.bare is None:  # judged as written, before case is dropped
            self.bare = {h for h in self.handles if distinctive(h)}
        self.handles, self.bare = {h.lower() for h in self.handles}, {h.lower() for h in self.bare}
        ids = {i for i in self.ids if i and not i.startswith("@")}  # '@handle' ids: the handle matches
        anywhere = _alternatives(ids | {h.lower() for h in self.bare})
        prefixed = _alternatives(self.handles)
        end = r"(?![A-Za-z0-9_]|\.[A-Za-z0-9])"  # not inside a longer name, nor a domain's label
        self._pattern = re.compile(
            rf"(?:(?:(?<=[@＠/:=])|(?<=%[0-9A-Fa-f]{{2}}))(?:{prefixed}){end})"
            rf"|(?:^(?:{prefixed})$)|(?:(?<![A-Za-z0-9_.])(?:{anywhere}){end})", re.IGNORECASE)

    def exact(self, value: str) -> bool:
        """``value`` is one of the account's ids or post ids (or '@handle' ids)."""
        return value in self.ids or value in self.posts

    def mask(self, text: str) -> str:
        """``text`` with the account's handles, ids and post ids overwritten, length kept."""
        text = self._pattern.sub(lambda m: MASK * len(m.group()), text)
        if self.posts:
            text = _NUMBER.sub(lambda m: MASK * len(m.group()) if m.group() in self.posts else m.group(), text)
        return text

    def owns(self, obj: dict) -> bool:
        """Whether a JSON object is the account's (see the module docstring)."""
        for name, value in obj.items():
            key = _key(name)
            if isinstance(value, str):
                if key in AUTHOR_KEYS and value in self.ids:
                    return True
                if key in HANDLE_KEYS and value.lstrip("@").lower() in self.handles:
                    return True
                if key in SELF_KEYS and self.exact(value) and not set(obj) <= REFERENCE_KEYS:
                    return True
        if any(isinstance(obj.get(k), dict) and self.owns(obj[k]) for k in OWNER_KEYS):
            return True
        refs = obj.get("referenced_tweets")
        return isinstance(refs, list) and any(
            isinstance(r, dict) and r.get("type") == "retweeted" and r.get("id") in self.posts for r in refs)


_DROP = object()


def redact_json(value, target: Target):
    """A copy of a parsed JSON value without the account (``_DROP`` when it was the account's)."""
    if isinstance(value, dict):
        if target.owns(value):
            return _DROP
        out = {}
        for k, v in value.items():
            new = redact_json(v, target)
            out[target.mask(k)] = None if new is _DROP else new
        for k in list(out):  # v1.1 pairs a number with its exact text: `id` / `id_str`
            if out[k] is not None and k + "_str" in value and isinstance(value[k + "_str"], str) \
                    and target.exact(value[k + "_str"]):
                out[k] = None
        return out
    if isinstance(value, list):
        return [x for x in (redact_json(v, target) for v in value) if x is not _DROP]
    if isinstance(value, str):
        return None if target.exact(value) else target.mask(value)
    if isinstance(value, int) and not isinstance(value, bool) and target.exact(str(value)):
        return None
    return value


def _has_content(value) -> bool:
    """Anything left worth keeping: a non-empty string or number anywhere."""
    if isinstance(value, dict):
        return any(_has_content(v) for v in value.values())
    if isinstance(value, list):
        return any(_has_content(v) for v in value)
    return value not in (None, "", False)


def redact_payload(payload: str, target: Target) -> str | None:
    """A raw record without the account: the redacted text, or None to drop the record."""
    start = min((i for i in (payload.find("{"), payload.find("[")) if i >= 0), default=-1)
    if start < 0:
        return target.mask(payload)
    try:
        data = json.loads(payload[start:])
    except ValueError:
        return target.mask(payload)
    redacted = redact_json(data, target)
    if redacted is _DROP or not _has_content(redacted):
        return None
    text = json.dumps(redacted, ensure_ascii=False, separators=(",", ":"))
    return target.mask(payload[:start]) + text
