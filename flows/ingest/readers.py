"""Split a file into raw records, exactly as collected, in bounded batches.

A record is a JSONL line, a whole JSON document, the JSON of an archive file, or a CSV
row (stored as a JSON object of header -> cell, so nothing about the row is lost).
Batches are bounded by bytes, so a file of any size is read in constant memory.
"""

from __future__ import annotations

import csv
import hashlib
import json
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

from flows.ingest.formats import ARCHIVE_PREFIX, Sniff

BATCH_BYTES = 16 << 20  # 3 batches in flight; 32 MB took a 1M-tweet ingest to 1.96 GB peak, 16 MB to 1.56 GB
Record = tuple[int, str, str | None]  # (record number, payload, problem that rejects it outright)
csv.field_size_limit(1 << 30)


def file_sha256(path: Path) -> str:
    """The sha256 of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 22), b""):
            digest.update(block)
    return digest.hexdigest()


def batches(path: Path, how: Sniff, progress: Callable[[int], None] = lambda n: None) -> Iterator[list[Record]]:
    """Yield lists of records for `path`; `progress` is told the bytes read, once per batch."""
    if how.layout == "jsonl":
        yield from _jsonl(path, progress)
    elif how.layout == "csv":
        yield from _csv(path, progress)
    elif how.layout == "document" and how.format == "csv":
        yield from _flat_items(path, progress)
    elif how.layout in ("document", "archive"):
        text = path.read_text(encoding="utf-8-sig")
        progress(len(text.encode("utf-8")))
        yield [(1, archive_json(text) if how.layout == "archive" else text, None)]


def archive_json(text: str) -> str:
    """The JSON of an X archive file: what follows `window.YTD.<kind>.partN = `."""
    head, _, body = text.lstrip().partition("=")
    if not head.startswith(ARCHIVE_PREFIX):
        return text
    return body.strip()


def archive_kind(text: str) -> str:
    """`tweets` for `window.YTD.tweets.part0 = [...]`."""
    return text.lstrip()[len(ARCHIVE_PREFIX):].split(".", 1)[0]


def _jsonl(path: Path, progress: Callable[[int], None]) -> Iterator[list[Record]]:
    with open(path, "rb") as fh:
        sized = ((_line_record(number, raw), len(raw)) for number, raw in enumerate(fh, start=1))
        yield from _batched(sized, progress)


def _batched(sized: Iterable[tuple[Record | None, int]], progress: Callable[[int], None]) -> Iterator[list[Record]]:
    """Group (record, bytes) pairs into batches of about BATCH_BYTES; None records only count bytes."""
    batch: list[Record] = []
    size = 0
    for record, nbytes in sized:
        size += nbytes
        if record:
            batch.append(record)
        if size >= BATCH_BYTES:
            progress(size)
            yield batch
            batch, size = [], 0
    progress(size)
    if batch:
        yield batch


def _line_record(number: int, raw: bytes) -> Record | None:
    try:
        line = raw.decode("utf-8").strip()
        problem = None
    except UnicodeDecodeError as exc:
        line = raw.decode("utf-8", errors="backslashreplace").strip()
        problem = f"not UTF-8 (byte {exc.start} of the line); re-export the file as UTF-8"
    if number == 1:
        line = line.lstrip("\ufeff")
    return (number, line, problem) if line else None


def _csv(path: Path, progress: Callable[[int], None]) -> Iterator[list[Record]]:
    try:
        yield from _csv_rows(path, progress)
    except UnicodeDecodeError as exc:
        from flows.ingest.formats import NotACorpus

        raise NotACorpus(f"{path}: not UTF-8 at byte {exc.start} of a row; save it as 'CSV UTF-8' "
                         "and ingest it again") from exc


def _csv_rows(path: Path, progress: Callable[[int], None]) -> Iterator[list[Record]]:
    with open(path, encoding="utf-8-sig", newline="") as fh:
        reader = csv.reader(fh, delimiter=csv_delimiter(fh.readline()))
        fh.seek(0)
        header = next(reader)
        payloads = ((n, json.dumps(_row_object(header, row), ensure_ascii=False)) for n, row in enumerate(reader, 1))
        yield from _batched((((n, p, None), len(p)) for n, p in payloads), progress)


def csv_delimiter(header: str) -> str:
    """Comma, tab or semicolon: whichever splits the header line into the most columns.

    Only the delimiter is guessed; quoting is standard (RFC 4180 doubled quotes), which is
    what every tool we read writes. The csv module's Sniffer guesses quoting from one line
    and gets doubled quotes wrong."""
    return max(",\t;", key=header.count)


def _row_object(header: list[str], row: list[str]) -> dict:
    """A CSV row as {header: cell}; cells beyond the header are kept under `_extra`."""
    obj = dict(zip(header, row))
    if len(row) > len(header):
        obj["_extra"] = row[len(header):]
    return obj


def _flat_items(path: Path, progress: Callable[[int], None]) -> Iterator[list[Record]]:
    """A JSON list of flat records (nested lists flattened): one record per object."""
    text = path.read_text(encoding="utf-8-sig")
    progress(len(text.encode("utf-8")))
    doc = json.loads(text)
    items = doc if isinstance(doc, list) else [doc]
    flat = [o for item in items for o in (item if isinstance(item, list) else [item])]
    yield [(n, json.dumps(o, ensure_ascii=False), None) for n, o in enumerate(flat, start=1)]
