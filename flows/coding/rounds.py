"""Human coding rounds: draw a reproducible sample into a coding sheet, and reconcile coders.

A sheet has ``post_id``, the context columns (author, date, text, in_reply_to), one column per
assignable code and ``memo``. :func:`flows.coding.importing.import_codes` reads it back.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd

from flows.coding.codebook import Codebook, assignable_codes
from flows.coding.sheets import sheet_suffix, write_sheet
from flows.coding.store import CodingError, register_codebook, values
from flows.export.paths import ExportError, atomic_outputs, check_free
from flows.provenance import digest
from flows.store.db import sql_text, transaction

CONTEXT_COLUMNS = ["author", "date", "text", "in_reply_to"]
STRATA = ("author", "month", "kind", "platform")


def post_context(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Every codable post with its sheet context (see ``flows/coding/sql/post_context.sql``)."""
    return con.execute(sql_text("coding/post_context.sql")).df()


def sheet_header(codebook: Codebook, extra: tuple[str, ...] = ()) -> list[str]:
    """``post_id``, context columns, one column per assignable code, ``memo`` and ``extra``."""
    return ["post_id", *CONTEXT_COLUMNS, *(c.id for c in assignable_codes(codebook)), "memo", *extra]


def allocate(sizes: pd.Series, n: int) -> dict[str, int]:
    """Proportional allocation of ``n`` over strata by largest remainder (ties: stratum name)."""
    total = int(sizes.sum())
    exact = sizes.astype(float) * n / total
    quota = np.floor(exact).astype(int)
    left = n - int(quota.sum())
    order = sorted(sizes.index, key=lambda s: (-(exact[s] - quota[s]), s))
    for stratum in order[:left]:
        quota[stratum] += 1
    return {s: int(min(quota[s], sizes[s])) for s in sizes.index}


def draw(frame: pd.DataFrame, n: int, strata: list[str], seed: int) -> pd.DataFrame:
    """A stratified random sample of ``n`` rows; the same inputs in any order give the same rows.

    Strata are allocated proportionally (largest remainder); within a stratum posts are drawn
    uniformly. The sheet order is a seeded shuffle of the drawn posts, so coders do not code
    one author or month in a block.
    """
    frame = frame.sort_values(["platform", "post_id"]).reset_index(drop=True)
    keys = frame[strata].astype(str).agg("|".join, axis=1) if strata else pd.Series("", frame.index)
    frame = frame.assign(stratum=keys)
    rng = np.random.default_rng(seed)
    quota = allocate(keys.value_counts(), min(n, len(frame)))
    picked = []
    for stratum in sorted(quota):
        rows = frame.index[keys == stratum].to_numpy()
        picked.extend(rows[rng.permutation(len(rows))[:quota[stratum]]])
    chosen = np.array(sorted(picked), dtype=int)
    return frame.loc[chosen[rng.permutation(len(chosen))]].reset_index(drop=True)


def sample(con: duckdb.DuckDBPyConnection, codebook: Codebook, n: int, out: Path, *,
           strata: list[str] | None = None, seed: int = 0,
           coders: list[str] | None = None, force: bool = False,
           strategy: str = "stratified") -> dict[str, Any]:
    """Draw a coding round and write its sheet (``.csv`` or ``.xlsx``): both or neither.

    Args:
        con: The store (posts must be ingested).
        codebook: The codebook whose codes become the sheet's columns.
        n: How many posts to draw (fewer when fewer are eligible).
        out: The sheet to write.
        strata: Any of ``author``, ``month``, ``kind``, ``platform``; none = simple random.
        seed: Seed of every draw: the same store, arguments and seed give the same sheet.
        coders: Posts these coders already coded under this codebook (any version) are left out.
        force: replace ``out`` if it exists (a filled sheet is refused otherwise).
        strategy: ``stratified`` (seeded random over ``strata``), ``uncertain`` or ``diverse``
            (active learning on the stored machine coding; see :mod:`flows.coding.active`).

    Returns:
        ``{"round_id", "sheet", "posts", "eligible", "strata", "strategy"}``.
    """
    from flows.coding.active import STRATEGIES

    strata, coders = list(strata or []), list(coders or [])
    suffix = sheet_suffix(out)
    _free(out, force)
    if strategy not in STRATEGIES:
        raise CodingError(f"unknown strategy {strategy!r}; choose from {', '.join(STRATEGIES)}")
    if strata and strategy != "stratified":
        raise CodingError(f"--stratify goes with --strategy stratified, not {strategy}; drop one of them")
    suffix = sheet_suffix(out)
    _free(out, force)
    bad = [s for s in strata if s not in STRATA]
    if bad:
        raise CodingError(f"cannot stratify by {', '.join(bad)}; choose from {', '.join(STRATA)}")
    if n < 1:
        raise CodingError("--n must be at least 1")
    frame = post_context(con)
    coded = con.execute("""SELECT DISTINCT platform, post_id FROM code_assignments
        WHERE codebook_id = ? AND list_contains(?, coder)""", [codebook.id, coders]).df()
    if not coded.empty:
        done = set(zip(coded["platform"], coded["post_id"]))
        frame = frame[[k not in done for k in zip(frame["platform"], frame["post_id"])]]
    if frame.empty:
        raise CodingError("no posts left to sample: ingest posts first, or every post was "
                          f"already coded by {', '.join(coders)}")
    drawn = draw(frame, n, strata, seed) if strategy == "stratified" else _active(con, codebook, frame, n,
                                                                                 strategy, seed)
    header = sheet_header(codebook)
    blanks = [""] * (len(header) - 1 - len(CONTEXT_COLUMNS))
    rows = [[r.post_id, r.author, r.date, r.text, r.in_reply_to, *blanks] for r in drawn.itertuples()]
    recorded = strata if strategy == "stratified" else [f"strategy={strategy}"]
    round_id = digest({"codebook": codebook.content_hash, "n": n, "strata": recorded, "seed": seed,
                       "coders": coders, "posts": [[r.platform, r.post_id] for r in drawn.itertuples()]})
    with _sheet_file(out, force) as tmp, transaction(con):  # the sheet is renamed into place after COMMIT
        register_codebook(con, codebook)
        con.execute("INSERT OR IGNORE INTO coding_rounds VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    [round_id, codebook.id, codebook.content_hash, len(drawn), seed,
                     ",".join(recorded), ",".join(coders), len(frame)])
        con.execute("DELETE FROM coding_round_posts WHERE round_id = ?", [round_id])
        con.executemany("INSERT INTO coding_round_posts VALUES (?, ?, ?, ?, ?)", [
            [round_id, r.platform, r.post_id, i, r.stratum] for i, r in enumerate(drawn.itertuples())])
        write_sheet(tmp, header, rows, suffix=suffix)
    return {"round_id": round_id, "sheet": str(out), "posts": len(drawn), "eligible": len(frame),
            "strata": strata, "strategy": strategy}


def _active(con: duckdb.DuckDBPyConnection, codebook: Codebook, frame: pd.DataFrame, n: int,
            strategy: str, seed: int) -> pd.DataFrame:
    """An ``uncertain`` or ``diverse`` round (see :mod:`flows.coding.active`), in a seeded order."""
    from flows.coding.active import machine_view, pick

    frame = frame.sort_values(["platform", "post_id"]).reset_index(drop=True)
    try:
        vectors, unsure = machine_view(con, codebook.content_hash, frame)
    except LookupError:
        raise CodingError(f"--strategy {strategy} needs the machine coding of this codebook version with an "
                          f"embedder: run `ethnoflow code --codebook {codebook.id}` first (or use "
                          "--strategy stratified)") from None
    chosen = sorted(pick(strategy, min(n, len(frame)), seed, vectors, unsure))
    drawn = frame.loc[chosen].assign(stratum=strategy)
    order = np.random.default_rng(seed).permutation(len(drawn))
    return drawn.iloc[order].reset_index(drop=True)


def _free(out: Path, force: bool) -> None:
    try:
        check_free([Path(out)], force)
    except ExportError as exc:
        raise CodingError(str(exc)) from None


@contextmanager
def _sheet_file(out: Path, force: bool) -> Iterator[Path]:
    """A temporary file to write the sheet to, renamed onto ``out`` when the block succeeds."""
    try:
        with atomic_outputs([Path(out)], force=force) as (tmp,):
            yield tmp
    except ExportError as exc:
        raise CodingError(str(exc)) from None
    except OSError as exc:
        raise CodingError(f"{out}: cannot write the sheet ({exc.strerror or exc}); nothing was recorded. "
                          "Choose another --out") from None


def reconcile(con: duckdb.DuckDBPyConnection, codebook: Codebook, coders: list[str],
              out: Path) -> dict[str, Any]:
    """Write the posts all ``coders`` coded, disagreements first, for a reconciliation meeting.

    Agreed codes are filled in; a disagreement reads ``ana:1 ben:0`` and must be replaced by the
    agreed value before the sheet is imported with ``--coder consensus`` (import refuses it
    otherwise). The ``disagreements`` column lists the codes in dispute; memos are joined.

    Returns:
        ``{"sheet", "posts", "posts_in_dispute", "cells_in_dispute"}``.
    """
    if len(coders) < 2:
        raise CodingError("reconcile needs at least two coders, e.g. --coders ana,ben")
    h = codebook.content_hash
    codes = [c.id for c in assignable_codes(codebook)]
    frame = values(con, h, coders)
    missing = [c for c in coders if c not in set(frame["coder"])]
    if missing:
        raise CodingError(f"no codes by {', '.join(missing)} under {codebook.id} version "
                          f"{h[:12]}; import their sheets first (ethnoflow import-codes)")
    table = frame.pivot_table(index=["platform", "post_id", "code_id"], columns="coder",
                              values="value", aggfunc="first")[coders].dropna()
    common = table.reset_index()
    memos = _memos(con, codebook.id, coders)
    context = post_context(con).set_index(["platform", "post_id"])
    rows = []
    for (platform, post_id), part in common.groupby(["platform", "post_id"], sort=True):
        cells, disputed = _cells(part.set_index("code_id"), coders, codes)
        if None in cells:
            continue  # a code column one coder's sheet lacked (older layout): not comparable
        ctx = context.loc[(platform, post_id)]
        memo = "; ".join(f"{c}: {memos[(platform, post_id, c)]}" for c in coders
                         if (platform, post_id, c) in memos)
        rows.append((-len(disputed), post_id, [post_id, ctx.author, ctx.date, ctx.text,
                                               ctx.in_reply_to, *cells, memo, " ".join(disputed)]))
    rows.sort(key=lambda r: (r[0], r[1]))
    write_sheet(out, sheet_header(codebook, ("disagreements",)), [r[2] for r in rows])
    return {"sheet": str(out), "posts": len(rows), "posts_in_dispute": sum(r[0] < 0 for r in rows),
            "cells_in_dispute": -sum(r[0] for r in rows)}


def _cells(part: pd.DataFrame, coders: list[str], codes: list[str]) -> tuple[list, list[str]]:
    cells, disputed = [], []
    for code in codes:
        if code not in part.index:
            cells.append(None)
            continue
        vals = [int(part.at[code, c]) for c in coders]
        if len(set(vals)) == 1:
            cells.append(vals[0])
        else:
            cells.append(" ".join(f"{c}:{v}" for c, v in zip(coders, vals)))
            disputed.append(code)
    return cells, disputed


def _memos(con: duckdb.DuckDBPyConnection, codebook_id: str,
           coders: list[str]) -> dict[tuple[str, str, str], str]:
    """Each coder's memos and notes per post (code memos prefixed with their code)."""
    rows = con.execute("""SELECT platform, post_id, coder, string_agg(CASE WHEN label = 'memo' THEN memo
            ELSE label || ': ' || memo END, ' | ' ORDER BY label = 'memo' DESC, label)
        FROM memos WHERE codebook_id = ? AND list_contains(?, coder) AND post_id <> ''
        GROUP BY ALL""", [codebook_id, coders]).fetchall()
    return {(p, i, c): m for p, i, c, m in rows}
