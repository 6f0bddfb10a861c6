"""Scheduled refreshes: a Prefect deployment of the pipeline, with a Prefect server to schedule it.

Prefect's temporary in-process API cannot schedule runs. So when no server is configured
(`PREFECT_API_URL` unset), `ethnoflow serve` starts a local one for as long as it serves,
keeping its database under the study's data/prefect/; with a server of your own
(`prefect server start`), set `PREFECT_API_URL` and that one is used.

On shutdown (Ctrl-C, or SIGTERM from systemd or `kill`), a flow run still in progress is
stopped before the server goes: left running it would retry an API that is gone for a minute
or more. Its stage's transaction is rolled back, so the store is as it was before that stage,
and the next run completes it.

Process hygiene: the server (and the deployment) are child processes that the kernel stops when
their parent dies, even by SIGKILL (:func:`dies_with`), so a killed `ethnoflow run` or `serve`
leaves no server behind. `serve` itself only supervises (:func:`supervise`): Prefect's runner
serves in a child process, whose own SIGTERM handling talks to the API and hangs once the server
is gone; the supervisor stops both on SIGINT or SIGTERM, or when either one stops, and exits
with one line.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

STARTUP_SECONDS = 120
_servers: dict[str, subprocess.Popen] = {}  # API url -> the local server process serving it
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
    _terminate([p for run in runs for p in (run, *run.children(recursive=True))], grace)
    return len(runs)


def _terminate(procs: list, grace: float) -> None:
    """SIGTERM ``procs`` (psutil processes), then SIGKILL those alive after ``grace`` seconds."""
    import psutil

    for proc in procs:
        with suppress(psutil.NoSuchProcess):
            proc.terminate()
    _, alive = psutil.wait_procs(procs, timeout=grace)
    for proc in alive:
        with suppress(psutil.NoSuchProcess):
            proc.kill()
    psutil.wait_procs(alive, timeout=grace)


PR_SET_PDEATHSIG = 1  # prctl(2)


def dies_with(parent: int):
    """A ``preexec_fn`` making the child receive SIGTERM when ``parent`` dies, even by SIGKILL
    (Linux: prctl PR_SET_PDEATHSIG; elsewhere nothing). Call it from the thread that lives as
    long as the parent: the kernel watches the thread that started the child."""

    def arm() -> None:
        if sys.platform.startswith("linux"):
            import ctypes

            ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
        if os.getppid() != parent:  # the parent died before the request was made
            os._exit(1)

    return arm


@contextmanager
def prefect_server(home: Path, *, services: bool = True) -> Iterator[str]:
    """The Prefect API to serve on: $PREFECT_API_URL, else a local server started for the duration.

    The local server dies with this process, however it ends. On exit, flow runs still in progress
    are stopped first (see the module notes). ``services=False``: the API only (a single run needs
    no scheduler).
    """
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
        server = subprocess.Popen([prefect, "server", "start", "--host", "127.0.0.1", "--port", str(port),
                                   *([] if services else ["--no-services"])],
                                  env=env, stdout=log, stderr=subprocess.STDOUT, preexec_fn=dies_with(os.getpid()))
    _servers[url] = server
    try:
        # the same patience as Prefect's own temporary server (ethnoflow sets 120 s; a busy machine needs it)
        deadline = time.monotonic() + float(os.environ.get("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS")
                                            or STARTUP_SECONDS)
        while not _healthy(url):
            if server.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the local Prefect server did not start; see {home / 'server.log'}")
            time.sleep(1)
        os.environ["PREFECT_API_URL"] = url
        yield url
    finally:
        _servers.pop(url, None)
        stop_flow_runs(keep={server.pid})
        _drain_prefect_queues()
        os.environ.pop("PREFECT_API_URL", None)
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()


def _drain_prefect_queues(timeout: float = 10.0) -> None:
    """Send the logs and events Prefect still holds while the server can take them. Left for
    Prefect's own exit hook, they would be sent to a server already stopped, and the process
    would wait about a minute on refused connections before it could exit."""
    from prefect.events.worker import EventsWorker
    from prefect.logging.handlers import APILogWorker

    for worker in (APILogWorker, EventsWorker):
        worker.drain_all(timeout=timeout, at_exit=False)


def local_server(url: str) -> subprocess.Popen | None:
    """The local server process behind ``url`` (None for a server of your own)."""
    return _servers.get(url)


def supervise(command: list[str], log: Path, *, server: subprocess.Popen | None = None,
              grace: float = STOP_SECONDS, echo=None) -> int:
    """Run ``command`` (the deployment) until SIGINT or SIGTERM, or until it or ``server`` stops;
    then stop it (SIGTERM, SIGKILL after ``grace`` seconds) with its children. Its output goes to
    ``log``. Returns the exit code: 0 when stopped by a signal, 1 when something stopped on its own.
    """

    stopped: list[str] = []
    previous = {sig: signal.signal(sig, lambda n, _f: stopped.append(signal.Signals(n).name))
                for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        with open(log, "ab") as out:
            child = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, preexec_fn=dies_with(os.getpid()))
        while not stopped:
            if child.poll() is not None:
                stopped.append(f"the deployment stopped (exit {child.returncode}; see {log})")
            elif server is not None and server.poll() is not None:
                stopped.append(f"the local Prefect server stopped (exit {server.returncode}; "
                               f"see {log.parent / 'server.log'})")
            else:
                time.sleep(0.2)
        _terminate([p for p in _tree(child.pid) if p.is_running()], grace)
        child.poll()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    why = stopped[0]
    (echo or (lambda line: print(line, file=sys.stderr)))(
        f"stopped serving: {'received ' + why if why.startswith('SIG') else why}")
    return 0 if why.startswith("SIG") else 1


def _tree(pid: int) -> list:
    import psutil

    try:
        root = psutil.Process(pid)
        return [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return []


def serve_command(study_file: Path, name: str, schedule: dict) -> list[str]:
    """The command that serves the deployment (``python -m flows.run.serve``), for :func:`supervise`."""
    return [sys.executable, "-m", "flows.run.serve", str(study_file), name, json.dumps(schedule)]


def _serve(study_file: str, name: str, schedule: str) -> None:  # pragma: no cover - run by supervise
    from flows.run.flow import pipeline  # PREFECT_API_URL is set: imported once the API is known

    # limit=1: a run that is due while another runs waits for it (they would queue on the study lock).
    pipeline.serve(name=name, parameters={"study_path": study_file, "wait": 3600.0}, limit=1, **json.loads(schedule))


if __name__ == "__main__":  # pragma: no cover
    _serve(*sys.argv[1:4])
