"""The leak scan: every handle, display name, user id and DID of a store, looked for in files.

Written apart from :mod:`flows.privacy` on purpose (its own tokenising and its own reading of
"ordinary word"), so that the scan checks the redaction layer rather than repeating it.

What counts as a hit, in any file or zip member or SQLite row or Parquet cell:

- a **handle** after ``@``, ``＠`` or ``/`` (a mention, a profile or status link), any case;
- a **handle written bare** as a whole word, except a one-word name that is an ordinary word
  of the corpus: not distinctive as written (no digit, '_', '.', inner capital), not a studied
  account's, and written in the prose of at least 3 other accounts (outside mentions, links and
  hashtags). The list of such words is returned so a test can bound it;
- a **display name** of at least 6 characters, as a run of its words (one-word names as above);
- a **numeric user id** of at least 6 digits as a whole number, and **any DID** (``did:plc:…``).
"""

from __future__ import annotations

import io
import re
import sqlite3
import zipfile
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from flows.people.roles import ROLES

WORDS = re.compile(r"\w+")
PROSE_NAMES = re.compile(r"[@＠#＃][\w.-]+|https?://\S+|www\.\S+")
# Tables of Prefect's database that are its own shipped catalogue (the integration blocks it knows,
# with their documentation), written at server start and the same in every Prefect database.
SQLITE_CATALOGUE = {"block_schema", "block_type", "block_schema_reference", "alembic_version"}
DID = re.compile(r"did:(?:plc|web|key):[a-z0-9._%-]+", re.IGNORECASE)


@dataclass
class Names:
    handles: set[str] = field(default_factory=set)             # lower case
    phrases: dict[str, list[tuple[str, ...]]] = field(default_factory=dict)  # display names of 2+ words
    words: set[str] = field(default_factory=set)                # one-word names (handles, display names)
    ids: set[str] = field(default_factory=set)                  # numeric user ids, 6+ digits
    dids: set[str] = field(default_factory=set)
    ordinary: set[str] = field(default_factory=set)


def _distinctive(written: str) -> bool:
    return bool(re.search(r"[0-9_.]", written) or re.search(r"[a-z][A-Z]", written))


def store_names(con) -> Names:
    """Every name of the store, and which one-word names are ordinary words of its corpus."""
    names = Names()
    rows = con.execute("""
        SELECT author_id, handle, display_name FROM authors
        UNION ALL SELECT author_id, author_handle, NULL FROM posts
        UNION ALL SELECT target_id, value, NULL FROM entities WHERE kind = 'mention'""").fetchall()
    studied = {h.lower() for (h,) in con.execute(
        "SELECT handle FROM superuser_candidates WHERE selected AND handle IS NOT NULL").fetchall()}
    owners: dict[str, set[str]] = defaultdict(set)
    keep: set[str] = set(studied)
    for author_id, handle, display in rows:
        owner = author_id or ("@" + handle.lower() if handle else "")
        if handle:
            low = handle.lstrip("@").lower()
            names.handles.add(low)
            names.words.add(low)
            owners[low].add(owner)
            if _distinctive(handle):
                keep.add(low)
        if display and len(display.strip()) >= 6:
            words = tuple(WORDS.findall(display.lower()))
            if len(words) == 1:
                names.words.add(words[0])
                owners[words[0]].add(owner)
            elif words:
                names.phrases.setdefault(words[0], []).append(words)
        if author_id and author_id.isdigit() and len(author_id) >= 6:
            names.ids.add(author_id)
        if author_id and author_id.startswith("did:"):
            names.dids.add(author_id.lower())
    names.ordinary = _ordinary(con, {w for w in names.words if w not in keep}, owners)
    names.ordinary |= set(ROLES) & names.words  # role labels ("unknown", "student") are categories ethnoflow writes
    return names


def _ordinary(con, candidates: set[str], owners: dict[str, set[str]]) -> set[str]:
    users: dict[str, set[str]] = defaultdict(set)
    for who, handle, text in con.execute("SELECT author_id, author_handle, text FROM posts "
                                         "WHERE kind <> 'repost' AND text IS NOT NULL").fetchall():
        who = who or "@" + (handle or "").lower()
        for word in set(WORDS.findall(PROSE_NAMES.sub(" ", text).lower())) & candidates:
            if who not in owners[word]:
                users[word].add(who)
    return {w for w, u in users.items() if len(u) >= 3}


def file_texts(path: Path) -> list[tuple[str, str]]:
    """(where, text) for a file: zip members one by one, spreadsheet cells, SQLite rows (with its
    write-ahead log applied), Parquet cells, else the bytes as UTF-8."""
    data = path.read_bytes()
    if data[:16] == b"SQLite format 3\x00":
        return [(str(path), _sqlite_text(path))]
    return _texts(str(path), data)


def _texts(where: str, data: bytes) -> list[tuple[str, str]]:
    if data[:4] == b"PK\x03\x04":
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            if "xl/workbook.xml" in archive.namelist():  # a spreadsheet: its cells, not its XML
                return [(where, _sheet_text(data))]
            return [t for name in archive.namelist() for t in _texts(f"{where}!{name}", archive.read(name))]
    if data[:4] == b"PAR1":
        import pyarrow as pa
        import pyarrow.parquet as pq

        table = pq.read_table(io.BytesIO(data))
        cells = [str(v) for col in table.columns if not pa.types.is_temporal(col.type) for v in col.to_pylist()]
        return [(where, "\n".join(table.column_names + cells))]
    return [(where, data.decode("utf-8", errors="replace"))]


def _sheet_text(data: bytes) -> str:
    from openpyxl import load_workbook

    book = load_workbook(io.BytesIO(data), read_only=True)
    return "\n".join(str(v) for sheet in book.worksheets for row in sheet.iter_rows(values_only=True)
                     for v in row if v is not None)


def _sqlite_text(path: Path) -> str:
    """Every value of every row (not the schema: Prefect's own words are not the data's), read from a
    copy of the database and its write-ahead log, so nothing only in the log is missed."""
    import shutil
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        for suffix in ("", "-wal", "-shm"):
            if Path(str(path) + suffix).exists():
                shutil.copy(str(path) + suffix, Path(tmp) / ("db" + suffix))
        con = sqlite3.connect(Path(tmp) / "db")
        try:
            tables = [r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
                      if r[0] not in SQLITE_CATALOGUE]
            values = [str(v) for t in tables for row in con.execute(f'SELECT * FROM "{t}"') for v in row
                      if isinstance(v, (str, bytes))]
        finally:
            con.close()
    return "\n".join(v if isinstance(v, str) else v.decode("utf-8", "replace") for v in values)


def hits(text: str, names: Names) -> list[str]:
    """What of the store's names ``text`` carries (see the module docstring)."""
    found = []
    low = text.lower()
    for m in re.finditer(r"\w+(?:[.-]\w+)*", low):
        token, before = m.group(), low[m.start() - 1] if m.start() else " "
        parts = {token, *WORDS.findall(token)} if ("." in token or "-" in token) else {token}
        for part in parts:
            if part in names.handles and (before in "@＠/" or part not in names.ordinary):
                found.append(f"handle {part!r}")
            elif part in names.words and part not in names.ordinary:
                found.append(f"name {part!r}")
            elif part in names.ids:
                found.append(f"user id {part}")
    words = WORDS.findall(low)
    for i, word in enumerate(words):
        for phrase in names.phrases.get(word, ()):
            if tuple(words[i:i + len(phrase)]) == phrase:
                found.append(f"display name {' '.join(phrase)!r}")
    found += [f"DID {d}" for d in DID.findall(low)]
    return found


def scan(files: list[Path], names: Names) -> dict[str, list[str]]:
    """``{file or member: [hits]}`` for every file that carries a name."""
    out = {}
    for path in files:
        for where, text in file_texts(path):
            found = hits(text, names)
            if found:
                out[where] = sorted(set(found))[:20]
    return out
