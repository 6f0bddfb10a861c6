"""Which format a file is in, decided from its first records, before anything is written.

A file that cannot be a corpus at all (an image, a codebook, prose, a CSV whose columns
mean nothing to us) raises `NotACorpus` with a one-line reason. A file of tweet-tool
output that holds no posts (user lookups, compliance events, counts) is a corpus
whose records all end up in `rejects`, with their reasons.
"""

from __future__ import annotations

import csv
import io
import json
import sys
from pathlib import Path

from flows.ingest.formats import ARCHIVE_PREFIX, NotACorpus, Sniff

SNIFF_BYTES = 1 << 20
MAX_LINE = 256 << 20  # a first JSONL line longer than a megabyte is read whole up to this


def sniff(path: Path, fmt: str = "auto", mapping: Path | None = None) -> Sniff:
    """Decide how to read `path`.

    Args:
        path: the file.
        fmt: a format from FORMATS to force, or "auto".
        mapping: a YAML column mapping for a generic CSV.

    Raises:
        NotACorpus: the file cannot be read as posts.
    """
    head, clean = _read_head(path)
    if not head.strip():
        return Sniff("empty", "empty")
    if head.startswith(ARCHIVE_PREFIX):
        return Sniff("archive", "archive")
    if head[0] in "{[":
        layout, sample = _json_sample(path, head)
        family = fmt if fmt != "auto" else _json_family(sample)
        if family == "csv":
            from flows.ingest.tables import preset_for_keys

            return Sniff("csv", layout, preset_for_keys(_flat_keys(sample), path))
        if family in ("twarc2", "v2") and head[0] == "[" and _is_tweet(sample[0] if sample else {}):
            # academictwitteR's data_*.json: a bare array of v2 tweets (a page's `data`), its
            # `includes` in users_*.json beside it
            return Sniff("v2", "tweet_array")
        if family == "twarc2" and layout == "document":
            family = "v2"
        if family == "bluesky" and any("4CAT_metadata" in o or "py_type" in (o.get("record") or {}) for o in sample):
            return Sniff("bluesky", layout, "4cat")  # 4CAT's NDJSON: the API's views as Python dumps them
        return Sniff(family, layout)
    if fmt not in ("auto", "csv"):
        raise NotACorpus(f"{path}: not JSON, so it cannot be --format {fmt}")
    from flows.ingest.tables import preset_for_header

    if not clean:
        raise NotACorpus(f"{path}: this CSV is not UTF-8 (perhaps Windows-1252 from Excel); "
                         "save it as 'CSV UTF-8' and ingest it again")
    return Sniff("csv", "csv", preset_for_header(_csv_header(path, head), path, mapping))


def _read_head(path: Path) -> tuple[str, bool]:
    """The first megabyte as text, and whether it decoded as UTF-8 without error (a UTF-16 file
    comes here as its UTF-8 copy, :func:`flows.ingest.readers.utf8_copy`)."""
    with open(path, "rb") as fh:
        raw = fh.read(SNIFF_BYTES)
    if b"\x00" in raw[:8192] and _binary(raw):
        raise NotACorpus(f"{path}: binary file ({_magic(raw)}), not a corpus of posts")
    try:
        text, clean = raw.decode("utf-8"), True
    except UnicodeDecodeError as exc:
        if len(raw) == SNIFF_BYTES and exc.start >= len(raw) - 3:  # a character cut at the end
            text, clean = raw[: exc.start].decode("utf-8", errors="replace"), True
        else:
            text, clean = raw.decode("utf-8", errors="replace"), False
    # A bad byte on some line of a JSONL file is that record's problem (it is rejected);
    # a file that is mostly not UTF-8 is not a corpus we can read.
    if not clean and text.count("\ufffd") > max(8, len(text) // 100):
        raise NotACorpus(f"{path}: not UTF-8 text ({_magic(raw)}); export it as UTF-8 JSON or CSV")
    return text.lstrip("\ufeff").lstrip(), clean


def _binary(raw: bytes) -> bool:
    """Whether a head with NUL bytes is binary data rather than text with a damaged line or two
    (those lines are rejected one by one): a known magic number, or NULs past 1 byte in 100."""
    head = raw[:8192]
    return _magic(raw) != "unknown binary data" or head.count(b"\x00") > max(2, len(head) // 100)


def _magic(raw: bytes) -> str:
    kinds = {b"\x89PNG": "a PNG image", b"\xff\xd8\xff": "a JPEG image", b"%PDF": "a PDF",
             b"PK\x03\x04": "a zip archive (unzip it and ingest data/tweets.js)", b"GIF8": "a GIF image"}
    return next((name for magic, name in kinds.items() if raw.startswith(magic)), "unknown binary data")


def _json_sample(path: Path, head: str) -> tuple[str, list[dict]]:
    """Return the layout and up to 50 objects to judge the family by."""
    lines = [ln for ln in head.splitlines() if ln.strip()]
    first = _loads(lines[0]) if lines else None
    if isinstance(first, (dict, list)) and (len(lines) > 1 or len(head) < SNIFF_BYTES):
        return "jsonl", _objects(_loads(ln) for ln in lines[:200])
    if first is None and len(lines) == 1:  # one line filled the head: read it (and the next) whole
        full = _whole_lines(path, 3)
        if len(full) > 1 and all(isinstance(_loads(ln), (dict, list)) for ln in full[:2]):
            return "jsonl", _objects(_loads(ln) for ln in full)
    item = _first_array_item(head)
    if item is not None:  # a large array document: judge by its first item, do not parse it all
        return "document", _objects([item])
    try:
        doc = json.loads(Path(path).read_text(encoding="utf-8-sig"))
    except RecursionError:
        raise NotACorpus(f"{path}: JSON nested more than {sys.getrecursionlimit():,} levels deep; no tweet or "
                         "post export is, so the file is damaged or hostile. Export it again") from None
    except json.JSONDecodeError as exc:
        if len(lines) > 1 and isinstance(_loads(lines[1]), (dict, list)):  # JSONL, first line broken
            return "jsonl", _objects(_loads(ln) for ln in lines[1:200])
        raise NotACorpus(f"{path}: invalid JSON at line {exc.lineno}, column {exc.colno} ({exc.msg})") from None
    return "document", _objects([doc])


def _whole_lines(path: Path, n: int) -> list[str]:
    """The first ``n`` non-blank lines of a JSONL file, each whole up to MAX_LINE bytes."""
    out = []
    with open(path, "rb") as fh:
        while len(out) < n:
            raw = fh.readline(MAX_LINE)
            if not raw:
                break
            if raw.strip():
                out.append(raw.decode("utf-8", errors="replace").lstrip("\ufeff"))
    return out


def _loads(text: str):
    try:
        return json.loads(text)
    except (ValueError, RecursionError):  # RecursionError: nested too deep, never a post
        return None


def _first_array_item(head: str):
    """The first element of a JSON array that starts the file, or None."""
    if not head.startswith("["):
        return None
    start = len(head) - len(head[1:].lstrip())
    try:
        return json.JSONDecoder().raw_decode(head, start)[0]
    except (ValueError, RecursionError):
        return None


def _objects(values) -> list[dict]:
    """Up to 50 JSON objects from values that are objects, or lists (of lists) of objects."""
    out: list[dict] = []
    for value in values:
        stack = [value]
        while stack and len(out) < 50:
            v = stack.pop(0)
            if isinstance(v, dict):
                out.append(v)
            elif isinstance(v, list):
                stack.extend(v[:50])
    return out


def _json_family(sample: list[dict]) -> str:
    """Judge by the first record whose family is clear; unknown objects go to the v2 path,
    which refuses each one into `rejects` with a reason."""
    for obj in sample:
        family = _object_family(obj)
        if family:
            return family
    return "twarc2"


def _is_tweet(o: dict) -> bool:
    return isinstance(o, dict) and "id" in o and "text" in o and "data" not in o


def _object_family(o: dict) -> str | None:
    if str(o.get("_type", "")).startswith("snscrape.modules.twitter."):
        return "csv"  # snscrape's JSON lines: flat enough for a preset (flows/ingest/presets/snscrape*.yaml)
    if "statuses" in o or "id_str" in o or "full_text" in o or "retweeted_status" in o \
            or ("user" in o and "text" in o) or "delete" in o or "limit" in o \
            or isinstance(o.get("tweet"), dict):  # archive items saved as plain JSON
        return "v1"
    if "data" in o or "__twarc" in o or ("id" in o and "text" in o and (
            "author_id" in o or "edit_history_tweet_ids" in o or "conversation_id" in o)):
        return "twarc2"
    # Flat records written by twitwi/minet/gazouilloire (tweets or Bluesky posts): a preset reads them.
    if "_source" in o or "timestamp_utc" in o or "user_screen_name" in o or "user_did" in o:
        return "csv"
    if _is_bluesky(o):
        return "bluesky"
    return None


BLUESKY_LISTS = ("feed", "posts", "records", "follows", "followers", "profiles")


def _is_bluesky(o: dict) -> bool:
    """Post views, feed items and pages, records, threads, Jetstream events, profiles, DIDs."""
    post = o.get("post")
    uri = o.get("uri") or (post.get("uri") if isinstance(post, dict) else None)
    if isinstance(uri, str) and uri.startswith("at://"):
        return True
    if str(o.get("$type", "")).startswith("app.bsky.") or str(o.get("did", "")).startswith("did:"):
        return True
    if isinstance(o.get("thread"), dict) or any(isinstance(o.get(k), list) for k in BLUESKY_LISTS):
        return True
    return ("commit" in o and "did" in o) or ("record" in o and "type" in o and "id" in o)


def _flat_keys(sample: list[dict]) -> list[str]:
    """Column names of a flat record (and, for an Elasticsearch dump, of its `_source`)."""
    obj = sample[0] if sample else {}
    inner = obj.get("_source")
    return list(obj) + (list(inner) if isinstance(inner, dict) else [])


def _csv_header(path: Path, head: str) -> list[str]:
    first_line = head.splitlines()[0] if head else ""
    if "," not in first_line and "\t" not in first_line and ";" not in first_line:
        raise NotACorpus(f"{path}: neither JSON nor a CSV with a header row; not a corpus of posts")
    from flows.ingest.readers import csv_delimiter

    return next(csv.reader(io.StringIO(first_line), delimiter=csv_delimiter(first_line)))
