"""Scheduled refreshes: a Prefect deployment of the pipeline, with a Prefect server to schedule it.

Prefect's temporary in-process API cannot schedule runs. So when no server is configured
(`PREFECT_API_URL` unset), `ethnoflow serve` starts a local one for as long as it serves,
keeping its database under the study's data/prefect/; with a server of your own
(`prefect server start`), set `PREFECT_API_URL` and that one is used.

On shutdown (Ctrl-C, or SIGTERM from systemd or `kill`), a flow run still in progress is
stopped before the server goes: left running it would retry an API that is gone for a minute
or more. Its stage's transaction is rolled back, so the store is as it was before that stage,
and the next run completes it.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

STARTUP_SECONDS = 120
STOP_SECONDS = 10  # grace for a flow run to end on SIGTERM before it is killed


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/health", timeout=2) as answer:
            return answer.status == 200
    except OSError:
        return False


def stop_flow_runs(*, keep: set[int], grace: float = STOP_SECONDS) -> int:
    """Terminate this process's child processes (flow runs) other than ``keep``, with their own
    children: SIGTERM, then SIGKILL after ``grace`` seconds. Returns how many were stopped."""
    import psutil

    runs = [child for child in psutil.Process().children() if child.pid not in keep]
    procs = [p for run in runs for p in (run, *run.children(recursive=True))]
    for proc in procs:
        with suppress(psutil.NoSuchProcess):
            proc.terminate()
    _, alive = psutil.wait_procs(procs, timeout=grace)
    for proc in alive:
        with suppress(psutil.NoSuchProcess):
            proc.kill()
    psutil.wait_procs(alive, timeout=grace)
    return len(runs)


@contextmanager
def prefect_server(home: Path) -> Iterator[str]:
    """The Prefect API to serve on: $PREFECT_API_URL, else a local server started for the duration.

    On exit, flow runs still in progress are stopped first (see the module notes)."""
    if os.environ.get("PREFECT_API_URL"):
        try:
            yield os.environ["PREFECT_API_URL"]
        finally:
            stop_flow_runs(keep=set())
        return
    home.mkdir(parents=True, exist_ok=True)
    port = _free_port()
    url = f"http://127.0.0.1:{port}/api"
    env = {**os.environ, "PREFECT_HOME": str(home), "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
           "PREFECT_UI_ENABLED": "false"}
    prefect = str(Path(sys.executable).with_name("prefect"))
    with open(home / "server.log", "ab") as log:
        server = subprocess.Popen([prefect, "server", "start", "--host", "127.0.0.1", "--port", str(port)],
                                  env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + STARTUP_SECONDS
        while not _healthy(url):
            if server.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the local Prefect server did not start; see {home / 'server.log'}")
            time.sleep(1)
        os.environ["PREFECT_API_URL"] = url
        yield url
    finally:
        stop_flow_runs(keep={server.pid})
        os.environ.pop("PREFECT_API_URL", None)
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
