"""`collect_study`: one collection run over a study's `collect:` section, recorded as a manifest.

Each platform's seeds are walked in study.yaml's order; a seed that cannot be collected
(deleted, suspended, protected, renamed…) is recorded with what the platform said and the
others go on. A crash leaves every seed at its last durable page, and the run marked failed.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime

from flows.collect.limits import Waiter
from flows.collect.settings import CollectSettings
from flows.collect.state import CollectRun
from flows.store.db import connect
from flows.study.model import Study


def window(study: Study, settings: CollectSettings):
    """The collection window: collect's own since/until, else the study's inclusion window."""
    return settings.since or study.inclusion.since, settings.until or study.inclusion.until


def collect_study(study: Study, *, full: bool = False, waiter: Waiter | None = None, transport=None,
                  env: Mapping[str, str] | None = None, clock: Callable[[], datetime] | None = None,
                  checkpoint: int | None = None, con=None) -> dict:
    """Collect the study's accounts and queries into its store; return the run's manifest counts.

    Args:
        full: list every Bluesky repository whole now (deletions, skipped posts), whatever
            ``recheck_days`` says.
        waiter: rate-limit waits (its sleeper, clock and progress display).
        transport: an httpx transport for every call (tests); default: the network.
        env: where secrets are read from (default: the environment).
        clock: the current time (default: UTC now).
        checkpoint: pages per durable file.
        con: an open store (default: the study's, opened for the run).
    """
    settings = study.collect
    if settings is None or not (settings.bluesky or settings.x):
        return {"skipped": "study.yaml has no collect: section"}
    if con is None:
        with connect(study.path(study.database)) as own:
            return collect_study(study, full=full, waiter=waiter, transport=transport, env=env, clock=clock,
                                 checkpoint=checkpoint, con=own)
    waiter = waiter or Waiter()
    run = CollectRun(con, study.path(settings.folder), **({"clock": clock} if clock else {}))
    since, until = window(study, settings)
    out: dict = {}
    try:
        if settings.bluesky and (settings.bluesky.accounts or settings.bluesky.queries):
            from flows.collect.bluesky import collect_bluesky
            from flows.collect.bluesky_api import BlueskyAPI

            api = BlueskyAPI(settings.bluesky, secrets_dir=study.path("data"), waiter=waiter, transport=transport,
                             env=env)
            out["bluesky"] = collect_bluesky(run, settings.bluesky, api, since=since, until=until, full=full,
                                             checkpoint=checkpoint)
        if settings.x and (settings.x.accounts or settings.x.queries or settings.x.compliance):
            from flows.collect.xapi import collect_x

            out["x"] = collect_x(run, settings.x, study, waiter=waiter, transport=transport, env=env,
                                 since=since, until=until, checkpoint=checkpoint)
    except BaseException:
        run.finish("failed")
        raise
    errors = sum(p.get("errors", 0) for p in out.values())
    manifest = run.finish("completed" if not errors else "completed with seed errors")
    return manifest | out | {"waited_seconds": round(sum(waiter.waited), 1)}
