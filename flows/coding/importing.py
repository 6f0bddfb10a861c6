"""Import a filled coding sheet as one coder's codes: all of it, or (on any problem) none of it.

Every row is a coded post: ``1``, ``x``, ``yes`` (also ``y``, ``true``, ``1.0``, ``'1'``) mean the
code is present, ``0``, blank (also ``no``, ``n``, ``false``, ``0.0``) that it is absent. Headers
match ignoring case, surrounding spaces and ``-``/space versus ``_`` (``Post ID`` is ``post_id``);
a code's column may also carry its label. ``memo`` holds a memo on the post, ``memo:<code>`` (or
``<code>_memo``) one on that code for the post; any other column is kept as a note labelled by
its header, with a warning. Every problem is collected before anything is written and reported
once per cell with its row, column and fix. Importing a sheet identical to what is stored is a
no-op that says so in one line.
"""

from __future__ import annotations

import difflib
import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from flows.coding.codebook import Codebook, assignable_codes
from flows.coding.coders import coder_warnings, log_action, register_coder
from flows.coding.memos import Memo, write_memos
from flows.coding.rounds import CONTEXT_COLUMNS
from flows.coding.sheets import column_letter, load_sheet
from flows.coding.store import CodingError, check_human_coder, register_codebook, replace_assignments, write_batch
from flows.store.db import transaction

PRESENT = {"1", "x", "yes", "y", "true", "✓", "✔"}
ABSENT = {"", "0", "no", "n", "false", "-"}
CONTEXT = {"post_id", *CONTEXT_COLUMNS, "disagreements"}
MEMO_RE = re.compile(r"^(?:memo[:_](?P<a>\w+)|(?P<b>\w+)_memo)$")


def normalise(header: str) -> str:
    """A header as matched: trimmed, lower case, runs of spaces and dashes as one ``_``."""
    return re.sub(r"[\s\-]+", "_", header.replace("\ufeff", "").strip().lower()).strip("_")


def parse_value(cell: str) -> int | None:
    """1 or 0 for a yes/no cell (numbers typed as text too: ``1.0``, ``'0'``); None otherwise."""
    text = cell.strip().strip("'\"").strip().lower()
    if text in PRESENT:
        return 1
    if text in ABSENT:
        return 0
    try:
        number = float(text.replace(",", "."))
    except ValueError:
        return None
    return int(number) if number in (0.0, 1.0) else None


@dataclass
class Layout:
    """Where things are in a sheet: columns by index."""

    post_id: int | None = None
    codes: dict[str, int] = field(default_factory=dict)
    memos: dict[int, str | None] = field(default_factory=dict)  # column -> code (None: the post)
    notes: dict[int, str] = field(default_factory=dict)  # column -> label
    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def layout(header: list[str], codebook: Codebook, rows: list[list[str]]) -> Layout:
    """Read the header: post id, code, memo and note columns, with problems and warnings."""
    codes = [c.id for c in assignable_codes(codebook)]
    by_label = {normalise(c.label): c.id for c in assignable_codes(codebook)}
    out, seen, unknown = Layout(), {}, {}
    for i, raw in enumerate(header):
        name, where = normalise(raw), f"row 1, column {column_letter(i)}"
        name = name if name in codes or name in CONTEXT else by_label.get(name, name)
        memo = MEMO_RE.match(name)
        if not name:
            if any(row[i].strip() for row in rows):
                unknown[i] = f"column {column_letter(i)}"
            continue
        if name in seen:
            out.problems.append(f"{where}: column '{raw.strip()}' appears twice (first in column "
                                f"{seen[name]}); delete one or rename it")
            continue
        seen[name] = column_letter(i)
        if name == "post_id":
            out.post_id = i
        elif name in codes:
            out.codes[name] = i
        elif name == "memo" or (memo and (memo["a"] or memo["b"]) in codes):
            out.memos[i] = None if name == "memo" else (memo["a"] or memo["b"])
        elif name not in CONTEXT:
            unknown[i] = raw.strip()
    if out.post_id is None:
        out.problems.append("row 1: no post_id column; keep the sheet's post_id column")
    _missing_codes(out, codes, unknown)
    return out


def _missing_codes(out: Layout, codes: list[str], unknown: dict[int, str]) -> None:
    """A missing code column is an error (naming the column that looks like it); other unknown
    columns are kept as notes, with one warning."""
    for code in codes:
        if code in out.codes:
            continue
        near = {normalise(label): i for i, label in unknown.items()}
        close = difflib.get_close_matches(code, list(near), n=1, cutoff=0.6)
        if close:
            i = near[close[0]]
            out.problems.append(f"row 1, column {column_letter(i)}: '{unknown.pop(i)}' is not a code; "
                                f"code column '{code}' is missing: rename the column to {code}")
        else:
            out.problems.append(f"row 1: code column '{code}' is missing; add it back (every row "
                                "codes every code)")
    out.notes = {i: label for i, label in unknown.items()}
    if out.notes:
        names = ", ".join(f"'{label}' (column {column_letter(i)})" for i, label in out.notes.items())
        out.warnings.append(f"column(s) {names} are not codes of this codebook; their cells are kept "
                            "as notes on each post")


def _row_problems(rows: list[list[str]], lay: Layout,
                  known: dict[str, str]) -> tuple[list[str], list[tuple[int, list[str]]]]:
    """Problems of the data rows (once per cell), and the (row number, cells) of the coded rows."""
    problems, kept, first = [], [], {}
    pid = lay.post_id
    for number, row in enumerate(rows, start=2):
        if not any(cell.strip() for cell in row):
            continue
        post_id = _post_id(row[pid])
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
        for code, i in lay.codes.items():
            if parse_value(row[i]) is None:
                problems.append(f"row {number}, column {column_letter(i)} ({code}): "
                                f"{row[i]!r} is not yes/no; write 1, x or yes for present, "
                                "0 or leave blank for absent")
        kept.append((number, row))
    return problems, kept


def _post_id(cell: str) -> str:
    """A post id as typed: Excel may show a long id as ``1.3E+18`` (lost) or add ``.0`` (kept)."""
    text = cell.strip().strip("'\"").strip()
    return text[:-2] if text.endswith(".0") and text[:-2].isdigit() else text


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
        ``{"coder", "posts", "assignments", "memos", "notes", "round_id", "unchanged", "warnings"}``;
        ``unchanged`` when the store already held exactly these codes (nothing was written).

    Raises:
        CodingError: every problem found, one per line; nothing was written.
    """
    check_human_coder(coder)
    path = Path(path)
    sheet = load_sheet(path)
    lay = layout(sheet.header, codebook, sheet.rows)
    known = _known_posts(con)
    problems, kept = list(lay.problems), []
    if lay.post_id is not None:
        row_problems, kept = _row_problems(sheet.rows, lay, known)
        problems += row_problems
    problems = list(dict.fromkeys(problems))
    if problems:
        raise CodingError([f"{path}: {p}" for p in problems] +
                          [f"{path}: {len(problems)} problem(s); nothing was imported"])
    frame, memos = _frames(con, kept, lay, coder, codebook, known)
    warnings = [f"{path}: {n}" for n in [*sheet.notes, *lay.warnings]]
    warnings += [f"{path}: {w}" for w in coder_warnings(con, coder, frame, len(kept))]
    result = {"coder": coder, "posts": len(kept), "assignments": len(frame),
              "memos": sum(m.kind == "memo" for m in memos), "notes": sum(m.kind == "note" for m in memos),
              "round_id": _matching_round(con, codebook, frame), "unchanged": False, "warnings": warnings}
    stored = _stored(con, coder, codebook, frame)
    if _same(stored, frame) and _same_memos(con, coder, codebook, sorted(set(frame["post_id"])), memos):
        result["unchanged"] = True
        return result
    clash = _clashing(stored, frame)
    if not replace and clash:
        raise CodingError([f"{path}: {_already_coded(clash, kept, lay, coder)}",
                           f"{path}: 1 problem(s); nothing was imported"])
    sha = hashlib.sha256(path.read_bytes()).hexdigest()
    with transaction(con):
        register_codebook(con, codebook)
        register_coder(con, coder)
        batch = write_batch(con, coder, codebook, "human", {"sheet": path.name, "sha256": sha},
                            result["round_id"])
        frame["batch_id"] = batch
        replace_assignments(con, frame)
        posts = [(coder, p, i) for p, i in frame[["platform", "post_id"]].drop_duplicates().itertuples(index=False)]
        write_memos(con, codebook, memos, batch, replace_posts=posts)
        log_action(con, "import", coder, {"sheet": path.name, "sha256": sha, "codebook": codebook.id,
                                          "version": codebook.content_hash, "posts": len(kept),
                                          "replace": replace, "round": result["round_id"]})
    return result


def _stored(con: duckdb.DuckDBPyConnection, coder: str, codebook: Codebook,
            frame: pd.DataFrame) -> pd.DataFrame:
    """The coder's stored codes of the sheet's posts under this version."""
    posts = sorted(set(frame["post_id"]))
    return con.execute("""SELECT a.post_id, a.code_id, a.value, c.made_under IS NOT NULL AS carried
        FROM code_assignments AS a LEFT JOIN carried_codes AS c USING (platform, post_id, content_hash, code_id, coder)
        WHERE a.coder = ? AND a.content_hash = ? AND list_contains(?, a.post_id)""",
                       [coder, codebook.content_hash, posts]).df()


def _same(stored: pd.DataFrame, frame: pd.DataFrame) -> bool:
    if stored.empty or len(stored) != len(frame):
        return False
    key = ["post_id", "code_id", "value"]
    a = sorted(map(tuple, stored[key].astype(str).values.tolist()))
    return a == sorted(map(tuple, frame[key].astype(str).values.tolist()))


def _same_memos(con: duckdb.DuckDBPyConnection, coder: str, codebook: Codebook, posts: list[str],
                memos: list[Memo]) -> bool:
    from flows.coding.memos import memo_id

    stored = dict(con.execute("""SELECT memo_id, memo FROM memos WHERE coder = ? AND codebook_id = ?
        AND list_contains(?, post_id) AND batch_id IS NOT NULL""", [coder, codebook.id, posts]).fetchall())
    return stored == {memo_id(coder, codebook.id, m): m.text for m in memos}


def _clashing(stored: pd.DataFrame, frame: pd.DataFrame) -> set[str]:
    """Posts the coder coded under this very version with other values (codes carried over from an
    earlier version give way to a new sheet)."""
    own = stored[~stored["carried"].astype(bool)]
    if own.empty:
        return set()
    new = {(p, c): v for p, c, v in frame[["post_id", "code_id", "value"]].itertuples(index=False)}
    return {p for p, c, v in own[["post_id", "code_id", "value"]].itertuples(index=False) if new.get((p, c)) != v}


def _already_coded(done: set[str], kept: list[tuple[int, list[str]]], lay: Layout, coder: str) -> str:
    """One line for every row whose post the coder coded already (with other values)."""
    numbers = [str(n) for n, row in kept if _post_id(row[lay.post_id]) in done]
    shown = ", ".join(numbers[:10]) + (f" and {len(numbers) - 10} more" if len(numbers) > 10 else "")
    return (f"{len(numbers)} post(s) are already coded by {coder} under this codebook version, with "
            f"other values (rows {shown}); pass --replace to replace {coder}'s earlier codes of them, "
            "or remove those rows")


def _frames(con: duckdb.DuckDBPyConnection, kept: list[tuple[int, list[str]]], lay: Layout,
            coder: str, codebook: Codebook, known: dict[str, str]) -> tuple[pd.DataFrame, list[Memo]]:
    texts = dict(con.execute("SELECT post_id, sha256(coalesce(text, '')) FROM posts").fetchall())
    records, memos = [], []
    for _, row in kept:
        post_id = _post_id(row[lay.post_id])
        platform = known[post_id]
        for code, i in lay.codes.items():
            records.append((platform, post_id, codebook.id, codebook.content_hash, code,
                            coder, parse_value(row[i]), None, texts[post_id]))
        for i, code in lay.memos.items():
            if row[i].strip():
                label = "memo" if code is None else f"memo:{code}"
                memos.append(Memo(coder, row[i].strip(), platform, post_id, code, "memo", label))
        memos += [Memo(coder, row[i].strip(), platform, post_id, None, "note", label)
                  for i, label in lay.notes.items() if row[i].strip()]
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
