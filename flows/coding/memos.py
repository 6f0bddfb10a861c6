"""Memos as data: analytic memos on a post, on a code for one post, or on a code as a whole.

A memo has an author (a coder), a codebook, what it is about and the time it was first recorded.
Sheets bring them (the ``memo`` column, ``memo:<code>`` columns, and any column the sheet adds,
kept as a *note* labelled by its header); :func:`add_memo` writes one directly (the coding app).
This module is the one writer of the ``memos`` table. A memo is keyed by its author, codebook,
post, code and label, so importing the same sheet again replaces it and keeps its first date.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime

import duckdb

from flows.coding.codebook import Codebook
from flows.coding.store import CodingError


@dataclass(frozen=True)
class Memo:
    """One memo. ``post_id`` None: about the code as a whole; ``code_id`` None: about the post."""

    coder: str
    text: str
    platform: str | None = None
    post_id: str | None = None
    code_id: str | None = None
    kind: str = "memo"  # or "note": an extra column of a sheet
    label: str = "memo"


def memo_id(coder: str, codebook_id: str, memo: Memo) -> str:
    """The memo's key (the same digest migration 0012 gave the memos it moved)."""
    parts = [coder, codebook_id, memo.platform or "", memo.post_id or "", memo.code_id or "", memo.label]
    return hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None, microsecond=0)


def write_memos(con: duckdb.DuckDBPyConnection, codebook: Codebook, memos: list[Memo],
                batch_id: str | None = None, *, replace_posts: list[tuple[str, str, str]] = ()) -> int:
    """Insert or update ``memos`` (a changed text keeps the memo's first date).

    ``replace_posts`` (coder, platform, post_id): memos that came with an earlier sheet of these
    posts and are absent now are deleted (a re-imported sheet whose memo cell was cleared).
    Call inside the caller's transaction. Returns the number of memos written.
    """
    keep = {memo_id(m.coder, codebook.id, m) for m in memos}
    for coder, platform, post_id in replace_posts:
        stale = con.execute("""SELECT memo_id FROM memos WHERE coder = ? AND codebook_id = ? AND
            platform = ? AND post_id = ? AND batch_id IS NOT NULL""",
                            [coder, codebook.id, platform, post_id]).fetchall()
        gone = [r[0] for r in stale if r[0] not in keep]
        if gone:
            con.execute("DELETE FROM memos WHERE list_contains(?, memo_id)", [gone])
    now = _now()
    for memo in memos:
        key = memo_id(memo.coder, codebook.id, memo)
        con.execute("""INSERT INTO memos VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT (memo_id) DO UPDATE SET memo = excluded.memo,
                content_hash = excluded.content_hash, batch_id = excluded.batch_id""",
                    [key, memo.coder, codebook.id, codebook.content_hash, memo.platform or "", memo.post_id or "",
                     memo.code_id, memo.kind, memo.label, memo.text, batch_id, now])
    return len(memos)


def add_memo(con: duckdb.DuckDBPyConnection, codebook: Codebook, memo: Memo) -> str:
    """Write one memo (from the coding app or a script); returns its id.

    Raises:
        CodingError: empty text, a code the codebook does not have, or a post not in the store.
    """
    from flows.coding.codebook import iter_codes
    from flows.store.db import transaction

    if not memo.text.strip():
        raise CodingError("the memo is empty; write what you noticed")
    codes = {n.code.id for n in iter_codes(codebook)}
    if memo.code_id is not None and memo.code_id not in codes:
        raise CodingError(f"{codebook.id} has no code '{memo.code_id}'; codes are: {', '.join(sorted(codes))}")
    if memo.post_id is not None and not con.execute(
            "SELECT 1 FROM posts WHERE platform = ? AND post_id = ?", [memo.platform, memo.post_id]).fetchall():
        raise CodingError(f"no post {memo.platform}/{memo.post_id} in the store")
    if memo.post_id is None and memo.code_id is None:
        raise CodingError("a memo is about a post, a code, or a code on one post; name one")
    with transaction(con):
        write_memos(con, codebook, [memo])
    return memo_id(memo.coder, codebook.id, memo)


def memos_of(con: duckdb.DuckDBPyConnection, codebook_id: str, coders: list[str] | None = None,
             code_id: str | None = None) -> list[dict]:
    """The memos of a codebook (optionally only ``coders``' and one code's), in a stable order."""
    return [dict(zip(("memo_id", "coder", "content_hash", "platform", "post_id", "code_id", "kind",
                      "label", "memo", "created_at"), r)) for r in con.execute("""
        SELECT memo_id, coder, content_hash, nullif(platform, ''), nullif(post_id, ''), code_id, kind, label,
               memo, created_at
        FROM memos WHERE codebook_id = ? AND (? IS NULL OR list_contains(?, coder))
          AND (? IS NULL OR code_id = ?)
        ORDER BY code_id NULLS FIRST, platform, post_id, coder, label, memo_id""",
        [codebook_id, coders, coders, code_id, code_id]).fetchall()]
