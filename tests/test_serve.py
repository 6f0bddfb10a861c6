"""`ethnoflow serve`: a scheduled Prefect deployment that really runs, and stops cleanly."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from flows.run.records import list_runs
from flows.store.db import connect
from flows.study.model import load_study


def runs_of(study_path) -> list[dict]:
    s = load_study(study_path)
    with connect(s.path(s.database), read_only=True) as con:
        return list_runs(con)


@pytest.mark.slow
def test_serve_runs_the_pipeline_on_its_schedule(study):
    """`ethnoflow serve` starts a local Prefect server (the temporary API cannot schedule) and
    the deployment's schedule makes real runs; fake embeddings and the k-means stand-in keep the
    run itself short (the real models have their own test in test_pipeline_prefect.py)."""
    import time

    study.write_text(study.read_text().replace("  model: minilm", "  model: fake\n  backend: kmeans")
                     .replace("  embedder: minilm", "  embedder: fake"))
    ethnoflow = str(Path(sys.executable).with_name("ethnoflow"))
    server = subprocess.Popen([ethnoflow, "serve", "--every", "10"], cwd=study.parent,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 240
        done = []
        while time.monotonic() < deadline and not done:
            time.sleep(1)
            if load_study(study).path("data/ethnoflow.duckdb").exists():
                try:
                    done = [r for r in runs_of(study) if r["status"] == "completed"]
                except Exception:  # the run holds the store right now
                    continue
    finally:
        import psutil

        children = psutil.Process(server.pid).children(recursive=True)  # the Prefect server, runs
        server.terminate()
        server.wait(timeout=60)
    assert children and not [c for c in children if c.is_running() and c.status() != psutil.STATUS_ZOMBIE]
    assert done and len(done[0]["run_id"]) == 36  # a Prefect flow-run id
    assert [s["stage"] for s in done[0]["stages"]][-1] == "export"
