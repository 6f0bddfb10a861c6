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


AMY = "did:plc:amy00000000000000000000"


@pytest.mark.slow
def test_serve_runs_the_pipeline_on_its_schedule(study, monkeypatch):
    """`ethnoflow serve` starts a local Prefect server (the temporary API cannot schedule) and
    the deployment's schedule makes real runs. Each run collects first, from a replay server of
    real-shaped Bluesky pages (tests/replay.py) named by $ETHNOFLOW_BLUESKY_API: the first run
    fetches the account's feed, a later one only the page with the post added in between. Fake
    embeddings and the k-means stand-in keep the runs short (the real models have their own test
    in test_pipeline_prefect.py)."""
    import time

    from replay import Replay, World

    world = World()
    for i in range(12):
        world.add(AMY, "amy.example.org", f"3amy{i:04d}", f"Residents teaching residents, case {i} #MedSky",
                  f"2025-03-{1 + i:02d}T08:00:00.000Z")
    study.write_text(study.read_text().replace("  model: minilm", "  model: fake\n  backend: kmeans")
                     .replace("  embedder: minilm", "  embedder: fake")
                     + "\ncollect:\n  bluesky:\n    accounts: [amy.example.org]\n    page_size: 5\n")
    ethnoflow = str(Path(sys.executable).with_name("ethnoflow"))
    with Replay(world) as base:
        monkeypatch.setenv("ETHNOFLOW_BLUESKY_API", base)
        monkeypatch.setenv("PREFECT_RUNNER_POLL_FREQUENCY", "1")  # the runner looks for due runs every 1 s, not 10
        server = subprocess.Popen([ethnoflow, "serve", "--every", "5"], cwd=study.parent,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            done = _completed(study, 1, time.monotonic() + 240)
            assert done, "no scheduled run completed within 4 minutes"
            world.requests.clear()
            world.add(AMY, "amy.example.org", "3amy0999", "One more #MedSky case", "2025-04-01T08:00:00.000Z")
            later = _completed(study, len(done) + 1, time.monotonic() + 120)
        finally:
            import psutil

            children = psutil.Process(server.pid).children(recursive=True)  # the Prefect server, runs
            server.terminate()
            server.wait(timeout=60)
    assert children and not [c for c in children if c.is_running() and c.status() != psutil.STATUS_ZOMBIE]
    assert len(done[0]["run_id"]) == 36  # a Prefect flow-run id
    stages = [s["stage"] for s in done[0]["stages"]]
    assert stages[0] == "collect" and stages[-1] == "export"
    collected = [r["stages"][0]["counts"] for r in later]
    assert collected[0]["ingested"] == 12 and sum(c["ingested"] for c in collected) == 13, collected
    feeds = [r for r in world.requests if "getAuthorFeed" in r]
    assert len(feeds) <= len(later) - len(done)  # after the first run: one page a run, the new one


def _completed(study, at_least: int, deadline: float) -> list[dict]:
    """The completed runs, oldest first, once there are ``at_least`` of them (or the deadline)."""
    import time

    done: list[dict] = []
    while time.monotonic() < deadline and len(done) < at_least:
        time.sleep(1)
        if load_study(study).path("data/ethnoflow.duckdb").exists():
            try:
                done = sorted((r for r in runs_of(study) if r["status"] == "completed"), key=lambda r: r["started_at"])
            except Exception:  # the run holds the store right now
                continue
    return done
