"""The validation gate: a machine code counts as a finding only when it agrees with people.

Per code, the machine coder's Cohen's kappa against the human reference (``consensus``, or the
coders it was trained from) is measured on *held-out authors*: the whole coding procedure
(calibration, training, the choice of source) is re-run once per author fold on the other
folds' posts, so every human-coded post is scored by a coder that saw none of its author's
posts. The 95% interval comes from a bootstrap over authors
(:func:`flows.coding.evaluate.kappa_ci`). A code is **validated** when the interval's lower
bound reaches the study's threshold (``coding: validation_threshold``, default
:data:`THRESHOLD`, the low end of the agreement human coders reach with each other); every other
code, including every code of a study with no human codes yet, is **not validated**: reports,
exports and the methods paragraph say so, and its machine values are not findings.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import duckdb
import numpy as np

from flows.coding.evaluate import N_BOOT, Posts, author_folds, cross_validate, per_code

THRESHOLD = 0.6
FOLDS = 5
NOT_VALIDATED = "not validated"
VALIDATED = "validated"
NO_HUMAN_CODES = "no human codes to check the machine against"


def validate(make: Callable[[], Any], posts: Posts, *, threshold: float = THRESHOLD, seed: int = 0,
             n_boot: int = N_BOOT, folds: int = FOLDS) -> dict[str, dict[str, Any]]:
    """Per code of ``posts.labels``: held-out kappa, interval, verdict and the reason in words.

    Args:
        make: Builds a fresh, untrained method (see :mod:`flows.coding.methods`).
        posts: The human-coded posts, with the reference codes as ``labels``.
        threshold: The lowest acceptable lower bound of the interval.
    """
    n_authors = len(set(posts.authors.tolist()))
    k = min(folds, n_authors)
    if k < 2:
        return {code: _verdict(None, threshold, 0, n_authors, posts, code,
                               "human codes from fewer than two authors: no author can be held out")
                for code in posts.labels}
    outputs = cross_validate(make, posts, author_folds(posts.authors, k, seed))
    figures = per_code(outputs, posts, n_boot=n_boot, seed=seed)
    return {code: _verdict(figures.get(code), threshold, k, n_authors, posts, code) for code in posts.labels}


def _verdict(f: dict | None, threshold: float, k: int, n_authors: int, posts: Posts, code: str,
             why: str | None = None) -> dict[str, Any]:
    y = posts.labels[code]
    row = {"n": int(len(y)), "positives": int(np.sum(y)), "authors": n_authors, "folds": k,
           "kappa": None, "ci_low": None, "ci_high": None, "threshold": threshold, "validated": False}
    if f is not None:
        row["kappa"] = f["kappa"]
        if f["ci"] is not None:
            row["ci_low"], row["ci_high"] = f["ci"]
    row["validated"] = row["ci_low"] is not None and row["ci_low"] >= threshold
    row["reason"] = why or _reason(row)
    return row


def _reason(r: dict[str, Any]) -> str:
    where = f"on {r['n']} posts by {r['authors']} authors, each held out in one of {r['folds']} folds"
    if r["kappa"] is None:
        return f"kappa undefined {where} (no variation)"
    if r["ci_low"] is None:
        return f"kappa {r['kappa']:.2f} {where}; too few positives ({r['positives']}) for an interval"
    figure = f"kappa {r['kappa']:.2f} [95% CI {r['ci_low']:.2f}, {r['ci_high']:.2f}] {where}"
    side = ">=" if r["validated"] else "<"
    return f"{figure}; lower bound {side} {r['threshold']:.2f}"


def write(con: duckdb.DuckDBPyConnection, codebook_id: str, content_hash: str, coder: str,
          reference: list[str], rows: dict[str, dict[str, Any]]) -> None:
    """Replace the coder's verdicts for this codebook version (call inside a transaction)."""
    con.execute("DELETE FROM code_validation WHERE content_hash = ? AND coder = ?", [content_hash, coder])
    con.executemany("INSERT INTO code_validation VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", [
        [codebook_id, content_hash, code, coder, ",".join(reference), r["n"], r["positives"], r["authors"],
         r["folds"], r["kappa"], r["ci_low"], r["ci_high"], r["threshold"], r["validated"], r["reason"]]
        for code, r in sorted(rows.items())])


def verdicts(con: duckdb.DuckDBPyConnection, content_hash: str, codes: list[str],
             coder: str = "auto") -> dict[str, dict[str, Any]]:
    """Per code, the stored verdict; a code without one is not validated (no human codes)."""
    cur = con.execute("""SELECT code_id, reference, n, kappa, ci_low, ci_high, threshold, validated, reason
        FROM code_validation WHERE content_hash = ? AND coder = ?""", [content_hash, coder])
    names = [d[0] for d in cur.description]
    stored = {r[0]: dict(zip(names, r)) for r in cur.fetchall()}
    return {code: stored.get(code) or {"code_id": code, "reference": None, "n": 0, "kappa": None,
                                       "ci_low": None, "ci_high": None, "threshold": None,
                                       "validated": False, "reason": NO_HUMAN_CODES}
            for code in codes}


def status(verdict: dict[str, Any]) -> str:
    """``validated`` or ``not validated``."""
    return VALIDATED if verdict["validated"] else NOT_VALIDATED


def mark(coder: str | None, verdict: dict[str, Any]) -> str:
    """What an export says of one coder's values for one code: human coding, validated, or not."""
    if coder is None or not coder.startswith("auto"):
        return "human coding"
    if verdict["validated"]:
        return f"validated ({verdict['reason']})"
    return f"NOT VALIDATED: machine values that are not findings ({verdict['reason']})"


def counted(coder: str, verdict: dict[str, Any], machine: bool) -> str:
    """Which coder's values a table counts for a code, and why, in one sentence."""
    if not machine:
        return f"{coder}'s values: human coding"
    if verdict["validated"]:
        return f"{coder}'s machine values: validated against {verdict['reference']} ({verdict['reason']})"
    return (f"{coder}'s machine values, NOT VALIDATED and not a finding ({verdict['reason']}); "
            "only human-coded posts are evidence for this code")
