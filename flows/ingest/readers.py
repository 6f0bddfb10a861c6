"""Split a file into raw records, exactly as collected, in bounded batches.

A record is a JSONL line, a whole JSON document, the JSON of an archive file, or a CSV
row (stored as a JSON object of header -> cell, so nothing about the row is lost).
Batches are bounded by bytes, so a file of any size is read in constant memory.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import json
import re
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

from flows.ingest.formats import ARCHIVE_PREFIX, Sniff

BATCH_BYTES = 16 << 20  # 3 batches in flight; 32 MB took a 1M-tweet ingest to 1.96 GB peak, 16 MB to 1.56 GB
# A \uD800-\uDBFF escape not followed by a \uDC00-\uDFFF one, or the second without the first.
LONE_SURROGATE = re.compile(r"(?<!\\)(?:\\\\)*\\u[dD][89abAB][0-9a-fA-F]{2}(?!\\u[dD][c-fC-F][0-9a-fA-F]{2})"
                            r"|(?<!\\u[dD][89abAB][0-9a-fA-F]{2})(?<!\\)\\u[dD][c-fC-F][0-9a-fA-F]{2}")
Record = tuple[int, str, str | None]  # (record number, payload, problem that rejects it outright)
csv.field_size_limit(1 << 30)


def file_sha256(path: Path, limit: int | None = None) -> str:
    """The sha256 of a file's bytes (of its first ``limit`` bytes, when given)."""
    digest = hashlib.sha256()
    left = limit if limit is not None else -1
    with open(path, "rb") as fh:
        while left:
            block = fh.read(1 << 22 if left < 0 else min(left, 1 << 22))
            if not block:
                break
            digest.update(block)
            left = left - len(block) if left > 0 else left
    return digest.hexdigest()


def wide_encoding(path: Path) -> str | None:
    """``utf-16``/``utf-32`` when the file starts with that encoding's byte-order mark, else None."""
    with open(path, "rb") as fh:
        raw = fh.read(4)
    if raw.startswith((codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)):
        return "utf-32"
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    return None


def utf8_copy(path: Path, encoding: str, folder: Path) -> Path:
    """A UTF-8 copy of a UTF-16/32 file in ``folder``, made in bounded memory (the source's
    sha256 stays the original file's; records are text, the same in either encoding)."""
    out = Path(folder) / f"{file_sha256(path)}{path.suffix}"
    try:
        with open(path, encoding=encoding, newline="") as src, open(out, "w", encoding="utf-8", newline="") as dst:
            for block in iter(lambda: src.read(1 << 20), ""):
                dst.write(block)
    except UnicodeError as exc:
        from flows.ingest.formats import NotACorpus

        raise NotACorpus(f"{path}: starts as {encoding.upper()} (byte-order mark) but is not valid {encoding.upper()} "
                         f"({exc.reason}); export it again as UTF-8") from None
    return out


def batches(path: Path, how: Sniff, progress: Callable[[int], None] = lambda n: None) -> Iterator[list[Record]]:
    """Yield lists of records for `path`; `progress` is told the bytes read, once per batch."""
    if how.layout == "jsonl":
        yield from _jsonl(path, progress)
    elif how.layout == "csv":
        yield from _csv(path, progress)
    elif how.layout == "document" and how.format == "csv":
        yield from _flat_items(path, progress)
    elif how.layout == "tweet_array":
        yield [(1, tweet_array_page(path, progress), None)]
    elif how.layout in ("document", "archive"):
        text = path.read_text(encoding="utf-8-sig")
        progress(len(text.encode("utf-8")))
        yield [(1, archive_json(text) if how.layout == "archive" else text, None)]


def tweet_array_page(path: Path, progress: Callable[[int], None] = lambda n: None) -> str:
    """academictwitteR's data_<id>.json (a page's `data`) as one API page: the file's text as written
    under "data", and under "includes" the text of users_<id>.json beside it, when it is there."""
    text = path.read_text(encoding="utf-8-sig").strip()
    progress(len(text.encode("utf-8")))
    users = path.with_name("users_" + path.name[len("data_"):]) if path.name.startswith("data_") else None
    if users is not None and users.is_file():
        included = users.read_text(encoding="utf-8-sig").strip()
        origin = json.dumps({"includes_file": users.name})
        return f'{{"data": {text}, "includes": {included}, "__academictwitter": {origin}}}'
    return f'{{"data": {text}}}'


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
    if problem is None and "\x00" in line:
        problem = (f"a NUL byte (\\x00) at character {line.index(chr(0)) + 1} of the line: the line was damaged "
                   "after it was collected (JSON never holds one); collect the post again")
    if problem is None and "\\u" in line and LONE_SURROGATE.search(line):
        found = LONE_SURROGATE.search(line).group()
        problem = (f"a lone UTF-16 surrogate ({found}): half of a character such as an emoji, cut apart by the "
                   "tool that wrote the line, so the text cannot be stored as Unicode; collect the post again")
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
        delimiter = csv_delimiter(fh.readline())
        fh.seek(0)
        yield from _batched(((r, len(r[1])) for r in csv_records(fh, delimiter, path)), progress)


class _Lines:
    """The physical lines of a file as a csv reader takes them: numbered, the current record's
    kept, and lines given back to be read again."""

    def __init__(self, fh) -> None:
        self._fh, self.number, self.taken, self._again = fh, 0, [], []

    def __iter__(self) -> _Lines:
        return self

    def __next__(self) -> str:
        if self._again:
            number, line = self._again.pop()
        else:
            line = next(self._fh)
            self.number += 1
            number = self.number
        self.taken.append((number, line))
        return line

    def again(self, lines: list[tuple[int, str]]) -> None:
        self._again.extend(reversed(lines))


def csv_records(fh, delimiter: str, path: Path) -> Iterator[Record]:
    """(row number, the row as a JSON object, None) for every row after the header.

    Quoting is read strictly: a quote that is never closed would otherwise swallow every line
    after it into one cell. Such a line is rejected, naming its line and the lines it would have
    taken, and the lines after it are read as rows of their own, so no row is lost.
    """
    lines, header, n = _Lines(fh), None, 0
    while True:
        reader = csv.reader(lines, delimiter=delimiter, strict=True)
        try:
            for row in reader:
                lines.taken.clear()
                if header is None:
                    header = row
                    continue
                n += 1
                yield n, json.dumps(_row_object(header, row), ensure_ascii=False), None
            return
        except csv.Error as exc:
            (first, text), rest = lines.taken[0], lines.taken[1:]
            lines.taken = []
            if header is None:
                from flows.ingest.formats import NotACorpus

                raise NotACorpus(f"{path}: the header row (line {first}) has a quote that is not closed ({exc}); "
                                 "fix it and ingest again") from None
            lines.again(rest)
            n += 1
            span = f"lines {first}-{rest[-1][0]}" if rest else f"line {first}"
            line = json.dumps({"_line": text.rstrip("\r\n")}, ensure_ascii=False)
            if "NUL" in str(exc):
                yield n, line, (f"line {first} of the CSV holds a NUL byte (\\x00): it was damaged after it was "
                                "collected; the lines after it are read as rows of their own")
                continue
            yield n, line, (
                f"line {first} of the CSV: a quote that is not closed ({exc}) would have read {span} as one row; "
                "this line is rejected and the lines after it are read as rows of their own. Close the quote "
                "(a quote inside a cell is written twice: \"\") and ingest again")


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
