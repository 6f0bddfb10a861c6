"""Coders as records: list them, rename one, remove one's codes (all, or one round's), each
with an audit row; and the warnings an import deserves (a name that differs from another only
by case, a sheet with nothing coded).

This module is the one writer of ``coders`` and ``coder_audit``; a rename or removal touches every
table that names a coder (assignments, batches, memos, carried codes) inside one transaction.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import duckdb
import pandas as pd

from flows.coding.store import CONSENSUS, CodingError, check_human_coder
from flows.store.db import transaction


def kind_of(name: str) -> str:
    """``machine`` (``auto``, ``auto:*``), ``consensus`` or ``person``."""
    return "machine" if name.startswith("auto") else "consensus" if name == CONSENSUS else "person"


def register_coder(con: duckdb.DuckDBPyConnection, name: str) -> None:
    """Record a coder (once). Call inside the caller's transaction."""
    con.execute("INSERT OR IGNORE INTO coders VALUES (?, ?)", [name, kind_of(name)])


def log_action(con: duckdb.DuckDBPyConnection, action: str, coder: str, detail: dict[str, Any]) -> None:
    """Append an audit row (the one place coding keeps a time). Call inside a transaction."""
    at = datetime.now(UTC).replace(tzinfo=None, microsecond=0)
    con.execute("INSERT INTO coder_audit VALUES (?, ?, ?, ?)",
                [at, action, coder, json.dumps(detail, sort_keys=True)])


def known_coders(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Every coder on record or with codes, sorted."""
    return [r[0] for r in con.execute("""SELECT name FROM coders UNION
        SELECT DISTINCT coder FROM code_assignments ORDER BY 1""").fetchall()]


def coder_warnings(con: duckdb.DuckDBPyConnection, coder: str, frame: pd.DataFrame, rows: int) -> list[str]:
    """What an import of ``frame`` (``coder``'s codes) should warn about; empty when nothing."""
    out = []
    twins = [c for c in known_coders(con) if c.lower() == coder.lower() and c != coder]
    if twins:
        out.append(f"coder '{coder}' differs from the existing coder '{twins[0]}' only by case; if they "
                   f"are one person, `ethnoflow coders rename {coder} {twins[0]}` after this import "
                   f"(or import as --coder {twins[0]})")
    if rows and not frame.empty and int(frame["value"].sum()) == 0:
        out.append(f"nothing is coded in this sheet: no code is marked present in any of its {rows} rows, "
                   f"so {coder} is recorded as finding every code absent; if the sheet was not filled "
                   f"in, `ethnoflow coders remove {coder}` takes it out")
    return out


def list_coders(con: duckdb.DuckDBPyConnection, study_coders: list[str] | None = None) -> list[dict[str, Any]]:
    """Every coder with kind, codebooks, posts and codes coded, codes present, sheets imported (and
    rounds coded in the code-app) and
    (given the study's list of coders) whether the study names them."""
    stats = {r[0]: r[1:] for r in con.execute("""
        SELECT coder, list(DISTINCT codebook_id ORDER BY codebook_id),
               count(DISTINCT platform || '/' || post_id), count(*), sum(value)
        FROM code_assignments GROUP BY coder""").fetchall()}
    sheets = {r[0]: r[1] for r in con.execute("""WITH named AS (
            SELECT coder, coalesce(json_extract_string(config, '$.sheet'),
                   CASE WHEN json_extract_string(config, '$.app') IS NOT NULL
                        THEN 'code-app round ' || left(coalesce(round_id, ''), 12) END) AS sheet
            FROM coding_batches WHERE method = 'human')
        SELECT coder, coalesce(list(DISTINCT sheet ORDER BY sheet) FILTER (WHERE sheet IS NOT NULL), []) FROM named
        GROUP BY coder""").fetchall()}
    out = []
    for name in known_coders(con):
        books, posts, codes, present = stats.get(name, ([], 0, 0, 0))
        row = {"coder": name, "kind": kind_of(name), "codebooks": list(books), "posts": int(posts),
               "codes": int(codes), "present": int(present or 0), "sheets": list(sheets.get(name, []))}
        if study_coders is not None:
            row["in_study"] = row["kind"] == "machine" or name in study_coders
        out.append(row)
    return out


def _exists(con: duckdb.DuckDBPyConnection, name: str) -> bool:
    return name in known_coders(con)


def rename_coder(con: duckdb.DuckDBPyConnection, old: str, new: str) -> dict[str, Any]:
    """Rename a person (or merge a misspelt name into the right one, when they coded different posts).

    Raises:
        CodingError: ``old`` unknown, a machine coder, ``new`` not a valid name, or both coded the
            same post under the same codebook version (remove one of them first).
    """
    if not _exists(con, old):
        raise CodingError(f"no coder '{old}'; coders: {', '.join(known_coders(con)) or 'none'}")
    if kind_of(old) == "machine":
        raise CodingError(f"'{old}' is a machine coder; machine coders are named by ethnoflow")
    check_human_coder(new)
    clash = con.execute("""SELECT count(DISTINCT a.platform || a.post_id) FROM code_assignments AS a
        JOIN code_assignments AS b USING (platform, post_id, content_hash, code_id)
        WHERE a.coder = ? AND b.coder = ?""", [old, new]).fetchone()[0]
    if clash:
        raise CodingError(f"{old} and {new} both coded {clash} of the same posts under one codebook version; "
                          f"remove one first (ethnoflow coders remove {old}), then rename")
    with transaction(con):
        counts = {t: con.execute(f"UPDATE {t} SET coder = ? WHERE coder = ?", [new, old]).fetchone()[0]
                  for t in ("code_assignments", "coding_batches", "carried_codes")}
        counts["memos"] = con.execute("""UPDATE memos SET coder = ?, memo_id = sha256(concat_ws(chr(31), ?,
            codebook_id, coalesce(platform, ''), coalesce(post_id, ''), coalesce(code_id, ''), label))
            WHERE coder = ?""", [new, new, old]).fetchone()[0]
        con.execute("DELETE FROM coders WHERE name = ?", [old])
        register_coder(con, new)
        log_action(con, "rename", old, {"to": new, **counts})
    return {"coder": old, "to": new, "assignments": counts["code_assignments"], "memos": counts["memos"]}


def _round_batches(con: duckdb.DuckDBPyConnection, coder: str, round_ref: str) -> list[str]:
    """The coder's sheet batches of one round: a round id (or its first characters) or a sheet name."""
    rows = con.execute("""SELECT batch_id, coalesce(round_id, ''), json_extract_string(config, '$.sheet')
        FROM coding_batches WHERE coder = ? AND method = 'human' ORDER BY batch_id""", [coder]).fetchall()
    found = [b for b, r, sheet in rows if (len(round_ref) >= 6 and r.startswith(round_ref)) or sheet == round_ref]
    if not found:
        known = ", ".join(sorted({f"{r[:12]} ({sheet})" if r else f"no round ({sheet})" for _, r, sheet in rows}))
        raise CodingError(f"{coder} has no sheet of round '{round_ref}'; {coder}'s sheets: {known or 'none'} "
                          "(give the round id shown by sample, at least 6 characters, or the sheet's file name)")
    return found


def remove_coder(con: duckdb.DuckDBPyConnection, name: str, round_ref: str | None = None) -> dict[str, Any]:
    """Delete a coder's codes and memos (all of them, or one round's sheets), with an audit row.

    Raises:
        CodingError: an unknown coder, or no sheet of that round.
    """
    if not _exists(con, name):
        raise CodingError(f"no coder '{name}'; coders: {', '.join(known_coders(con)) or 'none'}")
    batches = _round_batches(con, name, round_ref) if round_ref else [r[0] for r in con.execute(
        "SELECT batch_id FROM coding_batches WHERE coder = ?", [name]).fetchall()]
    with transaction(con):
        con.execute("""DELETE FROM carried_codes AS c USING code_assignments AS a
            WHERE a.platform = c.platform AND a.post_id = c.post_id AND a.content_hash = c.content_hash
              AND a.code_id = c.code_id AND a.coder = c.coder AND c.coder = ? AND list_contains(?, a.batch_id)""",
                    [name, batches])
        codes = con.execute("DELETE FROM code_assignments WHERE coder = ? AND list_contains(?, batch_id)",
                            [name, batches]).fetchone()[0]
        memos = con.execute("DELETE FROM memos WHERE coder = ? AND (list_contains(?, batch_id) OR ?)",
                            [name, batches, round_ref is None]).fetchone()[0]
        con.execute("DELETE FROM coding_batches WHERE coder = ? AND list_contains(?, batch_id)", [name, batches])
        left = con.execute("SELECT count(*) FROM code_assignments WHERE coder = ?", [name]).fetchone()[0]
        if not left:
            con.execute("DELETE FROM coders WHERE name = ?", [name])
        log_action(con, "remove", name, {"round": round_ref, "batches": len(batches), "assignments": codes,
                                         "memos": memos})
    return {"coder": name, "round": round_ref, "assignments": codes, "memos": memos, "left": left}


def audit_rows(con: duckdb.DuckDBPyConnection) -> list[dict[str, Any]]:
    """The audit log, oldest first."""
    return [{"at": str(at), "action": a, "coder": c, "detail": json.loads(d)} for at, a, c, d in con.execute(
        "SELECT recorded_at, action, coder, detail FROM coder_audit ORDER BY ALL").fetchall()]
