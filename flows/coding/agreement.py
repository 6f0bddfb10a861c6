"""Agreement reports: among human coders, and of each machine coder against a human reference.

The statistics come from :mod:`flows.coding.stats`; this module picks the rows (current
codebook version, chosen coders), shapes them into coders × posts matrices and labels the
result. JSON shape (a stable interface)::

    {"codebook", "version", "coders",
     "made_under": {"<coder>": [{"hash", "version", "how": "made" | "kept" | "reworded" | ..., "codes"}]},
     "not_yet_coded": {"<code>": {"<coder>": posts}},   (codes added or split since they coded)
     "codes": {"<code>": {"n", "coders", "percent_agreement", "cohen_kappa", "fleiss_kappa",
                          "gwet_ac1", "krippendorff_alpha", "ci95": {"<statistic>": [lo, hi] | null}}},
     "overall": {... same keys, every (post, code) pair pooled as one unit ...},
     "machine": {"against": "<coder>" | null,
                 "coders": {"auto": {"codes": {"<code>": {"n", "kappa", "precision", "recall",
                                                          "f1", "tp", "fp", "fn", "tn"}},
                                     "macro": {"kappa", "precision", "recall", "f1"},
                                     "trained_on": [...], "in_sample": bool,
                                     "cross_validated": {"<code>": {...}}   (auto:supervised)
                                     "sources": {"<code>": {"source", ...}}}}}}  (auto)
"""

from __future__ import annotations

import json
from contextlib import suppress
from typing import Any

import duckdb
import numpy as np
import pandas as pd

from flows.coding.codebook import Codebook, assignable_codes
from flows.coding.evolution import made_under
from flows.coding.stats import agreement_summary, classification_metrics
from flows.coding.store import CONSENSUS, MACHINE_CODERS, CodingError, coders_with_codes, human_coders, values, wide
from flows.provenance import digest


def agreement(con: duckdb.DuckDBPyConnection, codebook: Codebook, *,
              coders: list[str] | None = None, against: str | None = None,
              n_boot: int = 1000, seed: int = 0) -> dict[str, Any]:
    """Inter-rater agreement per code and overall, and machine-vs-human agreement.

    Args:
        con: The store.
        codebook: Its current version's codes are reported.
        coders: The human coders to compare (default: every person who coded this version).
        against: The reference for machine coders (default: ``consensus`` when it exists,
            else the only human coder, else none).
        n_boot: Bootstrap resamples for the 95% intervals (posts are resampled).
        seed: Bootstrap seed.
    """
    h = codebook.content_hash
    present = coders_with_codes(con, h)
    if not present:
        raise CodingError(_no_codes(con, codebook))
    coders = list(coders) if coders else human_coders(con, h)
    if not coders and not any(not c.startswith("auto") for c in present):
        raise CodingError(_no_people(con, codebook, present))
    missing = [c for c in coders if c not in present]
    if missing:
        raise CodingError(f"no codes by {', '.join(missing)} under {codebook.id} version "
                          f"{h[:12]}; coders with codes: {', '.join(present) or 'none'}")
    codes = [c.id for c in assignable_codes(codebook)]
    frame = values(con, h, coders)
    tables = {code: wide(frame, code, coders) for code in codes}
    report: dict[str, Any] = {"codebook": codebook.id, "version": h, "coders": coders}
    people = [c for c in present if not c.startswith("auto")]
    report["made_under"] = made_under(con, h, people)
    report["not_yet_coded"] = not_yet_coded(con, h, people, codes)
    report["codes"], report["overall"] = {}, None
    if coders:  # only consensus (or only machines) coded: nothing to compare among people
        report["codes"] = {code: cached_summary(con, t.T.to_numpy(), n_boot=n_boot, seed=seed)
                           for code, t in tables.items()}
        pooled = pd.concat(tables.values())
        report["overall"] = cached_summary(con, pooled.T.to_numpy(), n_boot=n_boot, seed=seed)
    if against is None:
        against = CONSENSUS if CONSENSUS in present else coders[0] if len(coders) == 1 else None
    report["machine"] = machine_agreement(con, codebook, against, present) if against else {
        "against": None, "coders": {}}
    return report


# Bump when agreement_stats changes what it computes: cached summaries of older versions are ignored.
STATS_VERSION = "agreement-stats/2"


def cached_summary(con: duckdb.DuckDBPyConnection, matrix: np.ndarray, *, n_boot: int, seed: int) -> dict:
    """:func:`agreement_summary`, cached in the store by the sha256 of the ratings and settings.

    A read-only connection reads the cache but cannot add to it (then the summary is computed).
    """
    ratings = json.dumps(pd.DataFrame(matrix).astype(object).where(pd.notna(matrix), None).values.tolist())
    key = digest([STATS_VERSION, ratings, n_boot, seed])
    hit = con.execute("SELECT summary FROM agreement_cache WHERE key = ?", [key]).fetchall()
    if hit:
        return json.loads(hit[0][0])
    summary = agreement_summary(matrix, n_boot=n_boot, seed=seed)
    with suppress(duckdb.Error):  # opened read-only: compute again next time
        con.execute("INSERT OR IGNORE INTO agreement_cache VALUES (?, ?)", [key, json.dumps(summary)])
    return summary


def _no_codes(con: duckdb.DuckDBPyConnection, codebook: Codebook) -> str:
    """Explain an empty report: nothing coded yet, or codes made under other versions."""
    other = con.execute("""SELECT content_hash, count(DISTINCT coder) FROM code_assignments
        WHERE codebook_id = ? GROUP BY ALL ORDER BY ALL""", [codebook.id]).fetchall()
    if not other:
        return (f"no codes for {codebook.id} yet; import coders' sheets (ethnoflow import-codes) "
                "or run ethnoflow code first")
    versions = ", ".join(f"{h[:12]} ({n} coders)" for h, n in other)
    return (f"no codes under the current version of {codebook.id} ({codebook.content_hash[:12]}): "
            f"the file changed since coding; codes exist under {versions}. Code again with this "
            "version, or restore the file those codes were made with")


def _no_people(con: duckdb.DuckDBPyConnection, codebook: Codebook, present: list[str]) -> str:
    """Explain a version only machine coders coded: where people's codes are, if anywhere."""
    other = con.execute("""SELECT v.version, a.content_hash, count(DISTINCT a.coder) FROM code_assignments AS a
        JOIN codebook_versions AS v USING (content_hash)
        WHERE a.codebook_id = ? AND a.content_hash <> ? AND a.coder NOT LIKE 'auto%'
        GROUP BY ALL ORDER BY ALL""", [codebook.id, codebook.content_hash]).fetchall()
    where = ("; people's codes exist under " + ", ".join(f"version {v} ({h[:12]}, {n} coders)" for v, h, n in other)
             + ": make that version current again (ethnoflow codebook diff shows what changed)") if other else \
        "; import coders' sheets first (ethnoflow sample, then ethnoflow import-codes)"
    return (f"no human codes under {codebook.id} version {codebook.version} ({codebook.content_hash[:12]}), only "
            f"{', '.join(present)}: agreement needs people's codes{where}")


def not_yet_coded(con: duckdb.DuckDBPyConnection, content_hash: str, coders: list[str],
                  codes: list[str]) -> dict[str, dict[str, int]]:
    """Per code, per coder: posts the coder coded under this version that lack this code (a code
    added, redefined or split since they coded them)."""
    rows = con.execute("""
        WITH coded AS (SELECT DISTINCT platform, post_id, coder FROM code_assignments
                       WHERE content_hash = $h AND list_contains($coders, coder)),
        pairs AS (SELECT * FROM coded CROSS JOIN (SELECT unnest($codes::VARCHAR[]) AS code_id))
        SELECT code_id, coder, count(*) FROM pairs AS p WHERE NOT EXISTS (
            SELECT 1 FROM code_assignments AS a WHERE a.content_hash = $h AND a.platform = p.platform
              AND a.post_id = p.post_id AND a.coder = p.coder AND a.code_id = p.code_id)
        GROUP BY ALL ORDER BY ALL""", {"h": content_hash, "coders": coders, "codes": codes}).fetchall()
    out: dict[str, dict[str, int]] = {}
    for code, coder, n in rows:
        out.setdefault(code, {})[coder] = int(n)
    return out


def machine_agreement(con: duckdb.DuckDBPyConnection, codebook: Codebook, against: str,
                      present: list[str]) -> dict[str, Any]:
    """Kappa, precision, recall and F1 of every machine coder against ``against``, per code."""
    if against not in present:
        raise CodingError(f"no codes by {against} under this version of {codebook.id}")
    h = codebook.content_hash
    codes = [c.id for c in assignable_codes(codebook)]
    machines = [m for m in MACHINE_CODERS if m in present]
    frame = values(con, h, [against, *machines])
    out: dict[str, Any] = {"against": against, "coders": {}}
    for machine in machines:
        per_code = {}
        for code in codes:
            table = wide(frame, code, [against, machine]).dropna()
            per_code[code] = classification_metrics(table[against].astype(int).tolist(),
                                                    table[machine].astype(int).tolist())
        out["coders"][machine] = {"codes": per_code, "macro": _macro(per_code),
                                  **_training(con, h, machine, against)}
    return out


def _macro(per_code: dict[str, dict[str, Any]]) -> dict[str, float | None]:
    """Unweighted mean over codes of each metric, skipping codes where it is undefined."""
    macro = {}
    for key in ("kappa", "precision", "recall", "f1"):
        defined = [m[key] for m in per_code.values() if m[key] is not None]
        macro[key] = round(float(np.mean(defined)), 6) if defined else None
    return macro


def _training(con: duckdb.DuckDBPyConnection, content_hash: str, machine: str,
              against: str) -> dict[str, Any]:
    """Which human codes a machine coder learned from, and its out-of-fold metrics if any.

    When it learned from the reference coder itself, the agreement above is in-sample on those
    posts (flattering); the cross-validated figures are the honest ones.
    """
    rows = con.execute("""SELECT DISTINCT b.batch_id, b.config FROM code_assignments AS a
        JOIN coding_batches AS b USING (batch_id)
        WHERE a.coder = ? AND a.content_hash = ?""", [machine, content_hash]).fetchall()
    configs = [json.loads(cfg) for _, cfg in rows]
    if machine == "auto":  # trained through its components
        components = [c for cfg in configs for c in cfg.get("components", {}).values()]
        configs = [json.loads(r[0]) for r in con.execute(
            "SELECT config FROM coding_batches WHERE list_contains(?, batch_id)", [components]).fetchall()]
    trained_on = sorted({c for cfg in configs for c in cfg.get("trained_on") or []})
    found = {}
    for batch_id, _ in rows:
        for code_id, metrics in con.execute("""SELECT code_id, metrics FROM coder_models
                WHERE batch_id = ? AND metrics IS NOT NULL ORDER BY code_id""", [batch_id]).fetchall():
            found[code_id] = json.loads(metrics)
    key = "sources" if machine == "auto" else "cross_validated"
    return {"trained_on": trained_on, "in_sample": against in trained_on, key: found}


def format_report(report: dict[str, Any]) -> str:
    """The report as aligned text for the terminal."""
    lines = [f"{report['codebook']} (version {report['version'][:12]}), coders: "
             f"{', '.join(report['coders']) or 'none'}",
             f"{'code':<24}{'n':>5}{'agree':>8}{'cohen':>8}{'fleiss':>8}{'ac1':>8}{'alpha':>8}  alpha 95% CI"]
    rows = [*report["codes"].items()] + ([("OVERALL", report["overall"])] if report["overall"] else [])
    for name, s in rows:
        ci = s["ci95"].get("krippendorff_alpha")
        lines.append(f"{name:<24}{s['n']:>5}{_f(s['percent_agreement'])}{_f(s['cohen_kappa'])}"
                     f"{_f(s['fleiss_kappa'])}{_f(s['gwet_ac1'])}{_f(s['krippendorff_alpha'])}  "
                     f"{'n/a' if not ci else f'[{ci[0]:.2f}, {ci[1]:.2f}]'}")
    lines += _evolution_lines(report)
    machine = report["machine"]
    if machine["coders"]:
        lines += ["", f"machine coders against {machine['against']} (macro over codes):",
                  f"{'coder':<24}{'kappa':>8}{'prec':>8}{'recall':>8}{'f1':>8}"]
        for name, m in machine["coders"].items():
            mac = m["macro"]
            note = "  (trained on these codes: in-sample)" if m["in_sample"] else ""
            lines.append(f"{name:<24}{_f(mac['kappa'])}{_f(mac['precision'])}"
                         f"{_f(mac['recall'])}{_f(mac['f1'])}{note}")
    return "\n".join(lines)


def _evolution_lines(report: dict[str, Any]) -> list[str]:
    """Which version people's codes were made under (when not all under this one), and what is
    not yet coded."""
    lines = []
    made = report.get("made_under", {})
    if any(m["hash"] != report["version"] for entries in made.values() for m in entries):
        lines += ["", "codes made under:"]
        for coder, entries in made.items():
            by_hash: dict[str, list[dict]] = {}
            for m in entries:
                by_hash.setdefault(m["hash"], []).append(m)
            parts = []
            for h, ms in by_hash.items():
                hows = ", ".join(f"{m['codes']} {m['how']}" for m in ms if m["how"] != "made")
                this = " (this version)" if h == report["version"] else f" ({h[:12]}; carried: {hows})"
                parts.append(f"{sum(m['codes'] for m in ms)} codes made under version {ms[0]['version']}{this}")
            lines.append(f"  {coder}: " + "; ".join(parts))
    for code, per in report.get("not_yet_coded", {}).items():
        who = ", ".join(f"{c} {n}" for c, n in per.items())
        lines.append(f"{code}: not yet coded on {sum(per.values())} post(s) people coded before ({who})")
    return lines


def _f(value: float | None) -> str:
    return f"{'n/a':>8}" if value is None else f"{value:>8.3f}"
