"""Codebook versions and code assignments in the store: write them, read them, export them.

A codebook is registered (its version, canonical JSON and codes) whenever a command loads it,
and becomes the *current* version of its id, the one the ``code_values`` view shows. Older
versions and every assignment made under them stay in the tables, keyed by content hash.
"""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from flows.coding.codebook import Codebook, canonical_json, iter_codes
from flows.errors import UserError
from flows.provenance import digest
from flows.store.db import sql_text, transaction

MACHINE_CODERS = ("auto", "auto:rules", "auto:semantic", "auto:supervised")
CONSENSUS = "consensus"
HUMAN_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_.-]{0,63}$")


class CodingError(UserError):
    """Problems a researcher can fix; ``str()`` gives one per line."""

    def __init__(self, problems: list[str] | str) -> None:
        self.problems = [problems] if isinstance(problems, str) else list(problems)
        super().__init__("\n".join(self.problems))


def register_codebook(con: duckdb.DuckDBPyConnection, codebook: Codebook) -> str:
    """Record this version of ``codebook`` (once) and make it current; return its hash.

    When another version was current, the two are linked and people's codes carried over
    (:func:`flows.coding.evolution.evolve`). Call inside the caller's transaction.
    """
    h = codebook.content_hash
    if not con.execute("SELECT 1 FROM codebook_versions WHERE content_hash = ?", [h]).fetchall():
        con.execute("INSERT INTO codebook_versions VALUES (?, ?, ?, ?, ?)",
                    [h, codebook.id, codebook.version, codebook.title, canonical_json(codebook)])
        con.executemany("INSERT INTO codebook_codes VALUES (?, ?, ?, ?, ?, ?, ?)", [
            [h, n.code.id, n.parent.id if n.parent else None, n.depth, i, n.code.label,
             bool(n.code.assignable)] for i, n in enumerate(iter_codes(codebook))])
    current = con.execute("SELECT content_hash FROM codebook_current WHERE codebook_id = ?",
                          [codebook.id]).fetchall()
    con.execute("INSERT OR REPLACE INTO codebook_current VALUES (?, ?)", [codebook.id, h])
    if current and current[0][0] != h:
        from flows.coding.evolution import evolve

        evolve(con, current[0][0], codebook)
    return h


def check_human_coder(name: str) -> str:
    """A person's coder name (or ``consensus``); machine names and odd characters are refused."""
    if name.lower().startswith("auto") or not HUMAN_RE.match(name):
        raise CodingError(f"coder name {name!r} is not allowed; use letters, digits, '.', '-' or "
                          "'_', starting with a letter, and not starting with 'auto' (reserved "
                          "for machine coders)")
    return name


def write_batch(con: duckdb.DuckDBPyConnection, coder: str, codebook: Codebook, method: str,
                config: dict[str, Any], round_id: str | None = None, *, key: str | None = None) -> str:
    """Record a batch of assignments (idempotent); return its id.

    ``key`` stands for the codebook in the id (machine coders pass ``codes_hash``: a version that
    changed only the codebook's description keeps their batches); default: the content hash.
    """
    h = codebook.content_hash
    batch_id = digest({"coder": coder, "codebook": key or h, "method": method, "config": config})
    con.execute("INSERT OR IGNORE INTO coding_batches VALUES (?, ?, ?, ?, ?, ?, ?)",
                [batch_id, coder, codebook.id, h, method, json.dumps(config, sort_keys=True),
                 round_id])
    return batch_id


def replace_assignments(con: duckdb.DuckDBPyConnection, rows: pd.DataFrame) -> int:
    """Write assignments, replacing the same coder's earlier rows for those posts and version.

    ``rows`` has the columns of ``code_assignments``. Other coders' rows are never touched.
    """
    if rows.empty:
        return 0
    con.register("_new_assignments", rows)
    try:
        con.execute("""
            DELETE FROM carried_codes AS a USING (
                SELECT DISTINCT platform, post_id, content_hash, coder FROM _new_assignments) AS n
            WHERE a.platform = n.platform AND a.post_id = n.post_id
              AND a.content_hash = n.content_hash AND a.coder = n.coder""")
        con.execute("""
            DELETE FROM code_assignments AS a USING (
                SELECT DISTINCT platform, post_id, content_hash, coder FROM _new_assignments) AS n
            WHERE a.platform = n.platform AND a.post_id = n.post_id
              AND a.content_hash = n.content_hash AND a.coder = n.coder""")
        con.execute("""INSERT INTO code_assignments SELECT platform, post_id, codebook_id,
            content_hash, code_id, coder, value, score, text_sha256, batch_id
            FROM _new_assignments""")
    finally:
        con.unregister("_new_assignments")
    return len(rows)


def clear_assignments(con: duckdb.DuckDBPyConnection, coder: str, content_hash: str, platform: str,
                      post_id: str) -> int:
    """Delete one coder's codes of one post under one version (a post the coder marks unavailable).

    Other coders' rows are never touched. Call inside the caller's transaction.
    """
    key = [platform, post_id, content_hash, coder]
    con.execute("""DELETE FROM carried_codes WHERE platform = ? AND post_id = ? AND content_hash = ?
        AND coder = ?""", key)
    return con.execute("""DELETE FROM code_assignments WHERE platform = ? AND post_id = ? AND content_hash = ?
        AND coder = ?""", key).fetchone()[0]


def posts_to_code(con: duckdb.DuckDBPyConnection, coder: str, content_hash: str,
                  batch_id: str) -> pd.DataFrame:
    """Posts ``coder`` has not coded with this configuration and their current text.

    Reposts are not coded (their text is someone else's). Sorted by platform and post id.
    """
    return con.execute(sql_text("coding/posts_to_code.sql"),
                       {"coder": coder, "content_hash": content_hash, "batch_id": batch_id}).df()


def coders_with_codes(con: duckdb.DuckDBPyConnection, content_hash: str) -> list[str]:
    """Every coder with assignments under this codebook version, sorted."""
    return [r[0] for r in con.execute(
        "SELECT DISTINCT coder FROM code_assignments WHERE content_hash = ? ORDER BY coder",
        [content_hash]).fetchall()]


def human_coders(con: duckdb.DuckDBPyConnection, content_hash: str) -> list[str]:
    """People who coded under this version (``consensus`` and machine coders excluded)."""
    return [c for c in coders_with_codes(con, content_hash)
            if not c.startswith("auto") and c != CONSENSUS]


def values(con: duckdb.DuckDBPyConnection, content_hash: str, coders: list[str]) -> pd.DataFrame:
    """Assignments of ``coders`` under one version: platform, post_id, code_id, coder, value, score."""
    return con.execute("""
        SELECT platform, post_id, code_id, coder, value, score FROM code_assignments
        WHERE content_hash = ? AND list_contains(?, coder)
        ORDER BY platform, post_id, code_id, coder""", [content_hash, coders]).df()


def wide(frame: pd.DataFrame, code_id: str, coders: list[str]) -> pd.DataFrame:
    """One code as a posts × coders table of 0/1 with NaN where a coder did not code a post."""
    part = frame[frame["code_id"] == code_id]
    table = part.pivot_table(index=["platform", "post_id"], columns="coder", values="value",
                             aggfunc="first")
    return table.reindex(columns=coders).astype(float)


def export_codes(con: duckdb.DuckDBPyConnection, out: Path, codebooks: list[str] | None = None,
                 coders: list[str] | None = None, *, force: bool = False) -> int:
    """Write ``post_id,codebook,code,coder,value,score,validation`` for current codebook versions.

    ``validation`` is the gate's verdict (:mod:`flows.coding.gate`) for machine codes:
    ``validated`` or ``not validated`` (machine values that are not findings); ``human`` for people.

    An existing ``out`` is refused unless ``force``; the file is written whole or not at all.

    Returns:
        The number of rows written (score is empty for people).
    """
    rows = con.execute("""
        SELECT v.post_id, v.codebook, v.code, v.coder, v.value, v.score,
               CASE WHEN v.coder NOT LIKE 'auto%' THEN 'human'
                    WHEN coalesce(g.validated, false) THEN 'validated' ELSE 'not validated' END
        FROM code_values AS v
        LEFT JOIN code_validation AS g
          ON g.content_hash = v.content_hash AND g.code_id = v.code AND g.coder = v.coder
        WHERE (? IS NULL OR list_contains(?, v.codebook)) AND (? IS NULL OR list_contains(?, v.coder))
        ORDER BY v.codebook, v.platform, v.post_id, v.code, v.coder""",
                       [codebooks, codebooks, coders, coders]).fetchall()
    from flows.export.paths import ExportError, atomic_outputs

    try:
        with atomic_outputs([Path(out)], force=force) as (tmp,), open(tmp, "w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(["post_id", "codebook", "code", "coder", "value", "score", "validation"])
            writer.writerows([*row[:5], "" if row[5] is None else repr(round(row[5], 6)), row[6]]
                             for row in rows)
    except ExportError as exc:
        raise CodingError(str(exc)) from None
    return len(rows)


def use_codebook(con: duckdb.DuckDBPyConnection, codebook: Codebook) -> dict[str, Any] | None:
    """Make ``codebook`` the current version (carrying people's codes over from the one before);
    return the change when this version is new to the store, else None."""
    h = codebook.content_hash
    current = con.execute("SELECT content_hash FROM codebook_current WHERE codebook_id = ?", [codebook.id]).fetchall()
    if current and current[0][0] == h:
        return None
    with transaction(con):
        register_codebook(con, codebook)
    if not current:
        return None
    row = con.execute("SELECT changes FROM codebook_links WHERE from_hash = ? AND to_hash = ?",
                      [current[0][0], h]).fetchall()
    return json.loads(row[0][0]) if row else None
