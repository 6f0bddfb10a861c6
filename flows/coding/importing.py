"""Import a filled coding sheet as one coder's codes: all of it, or (on any problem) none of it.

Every row is a coded post: ``1``, ``x``, ``yes`` (also ``y``, ``true``) mean the code is present,
``0``, blank (also ``no``, ``n``, ``false``) that it is absent. Every problem is collected
before anything is written, and reported one per line with its row and column.
"""

from __future__ import annotations

import difflib
import hashlib
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from flows.coding.codebook import Codebook, assignable_codes
from flows.coding.rounds import CONTEXT_COLUMNS
from flows.coding.sheets import column_letter, read_sheet
from flows.coding.store import CodingError, check_human_coder, register_codebook, replace_assignments, write_batch
from flows.store.db import transaction

PRESENT = {"1", "x", "yes", "y", "true"}
ABSENT = {"", "0", "no", "n", "false"}
KNOWN_COLUMNS = {"post_id", *CONTEXT_COLUMNS, "memo", "disagreements"}


def _header_problems(header: list[str], codes: list[str]) -> list[str]:
    problems = []
    seen: dict[str, str] = {}
    for i, name in enumerate(header):
        where = f"row 1, column {column_letter(i)}"
        if name in seen:
            problems.append(f"{where}: column '{name}' appears twice (first in column "
                            f"{seen[name]}); delete one")
        elif name and name not in KNOWN_COLUMNS and name not in codes:
            close = difflib.get_close_matches(name, codes, n=1, cutoff=0.6)
            fix = f"did you mean '{close[0]}'?" if close else f"codes are: {', '.join(codes)}"
            problems.append(f"{where}: unknown code column '{name}'; {fix}")
        seen.setdefault(name, column_letter(i))
    if "post_id" not in header:
        problems.append("row 1: no post_id column; keep the sheet's post_id column")
    problems += [f"row 1: code column '{c}' is missing; add it back (every row codes every "
                 "code)" for c in codes if c not in header]
    return problems


def parse_value(cell: str) -> int | None:
    """1 or 0 for a yes/no cell; None when the cell is neither."""
    text = cell.strip().lower()
    return 1 if text in PRESENT else 0 if text in ABSENT else None


def _row_problems(rows: list[list[str]], header: list[str], codes: list[str],
                  known: dict[str, str]) -> tuple[list[str], list[tuple[int, list[str]]]]:
    """Problems of the data rows, and the (row number, cells) of the non-blank rows."""
    problems, kept, first = [], [], {}
    pid = header.index("post_id")
    columns = [(header.index(c), c) for c in codes if c in header]
    for number, row in enumerate(rows, start=2):
        if not any(cell.strip() for cell in row):
            continue
        post_id = row[pid].strip()
        where = f"row {number}, column {column_letter(pid)} (post_id)"
        if not post_id:
            problems.append(f"{where}: empty; every coded row needs its post_id")
        elif post_id not in known:
            problems.append(f"{where}: unknown post id '{post_id}'; no such post in the store "
                            "(reposts are not coded; was the sheet made from another database?)")
        elif post_id in first:
            problems.append(f"{where}: duplicate row for post '{post_id}' (first at row "
                            f"{first[post_id]}); keep one row per post")
        first.setdefault(post_id, number)
        for i, code in columns:
            if parse_value(row[i]) is None:
                problems.append(f"row {number}, column {column_letter(i)} ({code}): "
                                f"{row[i]!r} is not yes/no; write 1, x or yes for present, "
                                "0 or leave blank for absent")
        kept.append((number, row))
    return problems, kept


def _known_posts(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    """post_id -> platform, with text hashes; post ids are unique across platforms in practice."""
    rows = con.execute("SELECT post_id, platform FROM posts WHERE kind <> 'repost'").fetchall()
    return dict(rows)


def import_codes(con: duckdb.DuckDBPyConnection, path: Path, coder: str, codebook: Codebook,
                 *, replace: bool = False) -> dict[str, Any]:
    """Store a filled coding sheet as ``coder``'s codes under this codebook version.

    Args:
        con: The store.
        path: The sheet (``.csv`` or ``.xlsx``), as written by ``sample`` or ``reconcile``.
        coder: The person (or ``consensus``) whose codes these are.
        codebook: The codebook the sheet codes.
        replace: Replace ``coder``'s own earlier codes of the same posts (never anyone else's).

    Returns:
        ``{"coder", "posts", "assignments", "round_id", "already_imported"}``.

    Raises:
        CodingError: every problem found, one per line; nothing was written.
    """
    check_human_coder(coder)
    path = Path(path)
    header, rows = read_sheet(path)
    header = [h.strip() for h in header]
    codes = [c.id for c in assignable_codes(codebook)]
    known = _known_posts(con)
    problems = _header_problems(header, codes)
    kept: list[tuple[int, list[str]]] = []
    if "post_id" in header:
        row_problems, kept = _row_problems(rows, header, codes, known)
        problems += row_problems
    if not problems:
        problems += _already_coded(con, kept, header, coder, codebook, replace)
    if problems:
        raise CodingError([f"{path}: {p}" for p in problems] +
                          [f"{path}: {len(problems)} problem(s); nothing was imported"])
    sha = hashlib.sha256(path.read_bytes()).hexdigest()
    frame, memos = _frames(con, kept, header, codes, coder, codebook, known)
    round_id = _matching_round(con, codebook, frame)
    with transaction(con):
        register_codebook(con, codebook)
        config = {"sheet": path.name, "sha256": sha}
        batch = write_batch(con, coder, codebook, "human", config, round_id)
        frame["batch_id"] = batch
        replace_assignments(con, frame)
        _write_memos(con, frame, memos, coder, codebook.content_hash, batch)
    return {"coder": coder, "posts": len(kept), "assignments": len(frame), "round_id": round_id}


def _already_coded(con: duckdb.DuckDBPyConnection, kept: list[tuple[int, list[str]]],
                   header: list[str], coder: str, codebook: Codebook, replace: bool) -> list[str]:
    if replace:
        return []
    pid = header.index("post_id")
    done = {r[0] for r in con.execute("""SELECT DISTINCT post_id FROM code_assignments
        WHERE coder = ? AND content_hash = ?""", [coder, codebook.content_hash]).fetchall()}
    return [f"row {n}, column {column_letter(pid)} (post_id): post '{row[pid].strip()}' is "
            f"already coded by {coder} under this codebook version; pass --replace to replace "
            f"{coder}'s earlier codes, or remove the row" for n, row in kept if row[pid].strip() in done]


def _frames(con: duckdb.DuckDBPyConnection, kept: list[tuple[int, list[str]]], header: list[str],
            codes: list[str], coder: str, codebook: Codebook,
            known: dict[str, str]) -> tuple[pd.DataFrame, dict[str, str]]:
    pid, memo_at = header.index("post_id"), header.index("memo") if "memo" in header else None
    texts = dict(con.execute("SELECT post_id, sha256(coalesce(text, '')) FROM posts").fetchall())
    records, memos = [], {}
    for _, row in kept:
        post_id = row[pid].strip()
        for code in codes:
            records.append((known[post_id], post_id, codebook.id, codebook.content_hash, code,
                            coder, parse_value(row[header.index(code)]), None, texts[post_id]))
        if memo_at is not None and row[memo_at].strip():
            memos[post_id] = row[memo_at].strip()
    frame = pd.DataFrame.from_records(records, columns=[
        "platform", "post_id", "codebook_id", "content_hash", "code_id", "coder", "value",
        "score", "text_sha256"])
    return frame.astype({"value": "int8", "score": "float64"}), memos


def _matching_round(con: duckdb.DuckDBPyConnection, codebook: Codebook,
                    frame: pd.DataFrame) -> str | None:
    """The smallest sampled round of this codebook that holds every post of the sheet."""
    posts = sorted(set(frame["post_id"]))
    row = con.execute("""
        SELECT r.round_id FROM coding_rounds AS r JOIN coding_round_posts AS p USING (round_id)
        WHERE r.codebook_id = ? AND list_contains(?, p.post_id)
        GROUP BY r.round_id, r.n HAVING count(*) = ? ORDER BY r.n, r.round_id LIMIT 1""",
                      [codebook.id, posts, len(posts)]).fetchall()
    return row[0][0] if row else None


def _write_memos(con: duckdb.DuckDBPyConnection, frame: pd.DataFrame, memos: dict[str, str],
                 coder: str, content_hash: str, batch: str) -> None:
    posts = frame[["platform", "post_id"]].drop_duplicates().itertuples(index=False)
    for platform, post_id in posts:
        con.execute("DELETE FROM code_memos WHERE platform = ? AND post_id = ? AND "
                    "content_hash = ? AND coder = ?", [platform, post_id, content_hash, coder])
        if post_id in memos:
            con.execute("INSERT INTO code_memos VALUES (?, ?, ?, ?, ?, ?)",
                        [platform, post_id, content_hash, coder, memos[post_id], batch])
