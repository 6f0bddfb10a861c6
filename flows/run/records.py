"""Run provenance: every pipeline run is a row saying what produced its results."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import duckdb

from flows.provenance import PACKAGES, code_version, package_versions
from flows.store.db import transaction

INTERRUPTED = ("interrupted: the run stopped before it finished (killed, or the machine stopped); "
               "the stage in progress was rolled back and a later run redid it")


def start_run(con: duckdb.DuckDBPyConnection, run_id: str, flow_name: str, study_sha256: str | None) -> None:
    """Record a run as started, and any run still marked running as failed (interrupted).

    The caller holds the study lock, so no other run can be live: a row still 'running' is a
    run that was killed. Its end time stays empty, because nobody saw it end.
    """
    with transaction(con):
        con.execute("UPDATE runs SET status = 'failed', error = ? WHERE status = 'running'", [INTERRUPTED])
        con.execute("INSERT INTO runs (run_id, flow_name, started_at, status, study_sha256, versions, code_version) "
                    "VALUES (?, ?, ?, 'running', ?, ?, ?)",
                    [run_id, flow_name, _now(), study_sha256, json.dumps(package_versions(*PACKAGES), sort_keys=True),
                     code_version()])


def finish_run(con: duckdb.DuckDBPyConnection, run_id: str, stages: list[dict], *, error: str | None = None) -> None:
    """Record a run's end: its stages, the codebooks and sources it saw, and how it ended."""
    codebooks = dict(con.execute("SELECT codebook_id, content_hash FROM codebook_current ORDER BY 1").fetchall()) \
        if _has(con, "codebook_current") else {}
    sources = [r[0] for r in con.execute("SELECT sha256 FROM sources ORDER BY 1").fetchall()]
    with transaction(con):
        con.execute("UPDATE runs SET ended_at = ?, status = ?, stages = ?, codebooks = ?, sources = ?, error = ? "
                    "WHERE run_id = ?",
                    [_now(), "failed" if error else "completed", json.dumps(stages), json.dumps(codebooks),
                     json.dumps(sources), error, run_id])


def last_run(con: duckdb.DuckDBPyConnection) -> dict | None:
    """The most recently started run, with its JSON fields decoded, or None."""
    runs = list_runs(con)
    return runs[0] if runs else None


def list_runs(con: duckdb.DuckDBPyConnection, *, live: bool = True) -> list[dict]:
    """Every run, newest first, with its JSON fields decoded.

    Args:
        live: whether a run may be going on now (the study lock is held,
            :func:`flows.store.lock.held`); if not, a run still recorded as running was killed
            and is listed as failed (interrupted), as the next run will record it.
    """
    if not _has(con, "runs"):  # a store whose first run was killed before its migrations ran
        return []
    cols = [d[0] for d in con.execute("SELECT * FROM runs LIMIT 0").description]
    rows = con.execute("SELECT * FROM runs ORDER BY started_at DESC, run_id").fetchall()
    out = []
    for row in rows:
        item = dict(zip(cols, row))
        for key in ("stages", "codebooks", "sources", "versions"):
            item[key] = json.loads(item[key]) if item[key] else None
        for key in ("started_at", "ended_at"):
            item[key] = item[key].isoformat() if item[key] else None
        if item["status"] == "running" and not live:
            item["status"], item["error"] = "failed", INTERRUPTED
        out.append(item)
    return out


def _has(con: duckdb.DuckDBPyConnection, table: str) -> bool:
    return bool(con.execute("SELECT count(*) FROM duckdb_tables() WHERE table_name = ?", [table]).fetchone()[0])


def _now() -> datetime:
    return datetime.now(UTC)
