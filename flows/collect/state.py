"""A collection run's records: each seed's resume point, the manifest, and pages made durable.

Pages are kept as collected, one JSONL file per checkpoint under ``collect.folder``
(``<platform>/<seed>/<run>-<n>.jsonl``), and ingested by the same readers as any corpus file, so
one parser handles collected and dropped-in data alike. A seed's cursor is saved only after the
pages before it are in the store: a crash resumes from the last durable page.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable
from dataclasses import dataclass, fields
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from flows.provenance import canonical, package_versions
from flows.store.db import transaction

SEED_COLUMNS = ("author_id", "handle", "newest", "cursor", "walk_top", "repo_newest", "full_check_at",
                "status", "error")


@dataclass
class SeedState:
    """Where one seed (an account or a query) stands."""

    platform: str
    seed: str
    author_id: str | None = None
    handle: str | None = None
    newest: str | None = None
    cursor: str | None = None
    walk_top: str | None = None
    repo_newest: str | None = None
    full_check_at: datetime | None = None
    status: str = "ok"
    error: str | None = None


@dataclass
class Call:
    """One endpoint called for one seed in a run: the manifest's row."""

    platform: str
    seed: str
    endpoint: str
    params: dict
    started_at: datetime
    pages: int = 0
    posts: int = 0
    status: str = "ok"

    def page(self, items: int) -> None:
        self.pages += 1
        self.posts += items


def collector_version() -> str:
    """What collected: ethnoflow's version and the client libraries'."""
    v = package_versions("ethnoflow", "atproto", "httpx")
    return f"ethnoflow {v['ethnoflow']} (atproto {v['atproto']}, httpx {v['httpx']})"


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("_")[:80] or "seed"


class CollectRun:
    """One run of the collector over a study's store.

    Args:
        con: the study's store (writable).
        folder: where pages are kept.
        clock: the current time (tests pass a fixed one).
        ingest: ``ingest(con, paths)`` (default: :func:`flows.ingest.files.ingest`).
    """

    def __init__(self, con: duckdb.DuckDBPyConnection, folder: Path, *,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC), ingest: Callable | None = None):
        self.con, self.folder, self.clock = con, Path(folder), clock
        stamp = self.clock().strftime("%Y%m%dT%H%M%SZ")
        earlier = con.execute("SELECT count(*) FROM collect_runs WHERE run_id LIKE ?", [stamp + "%"]).fetchone()[0]
        self.run_id = stamp if not earlier else f"{stamp}-{earlier + 1}"
        self.calls: list[Call] = []
        self.files = 0
        self.ingested = 0
        self._ingest = ingest
        self._checkpoints: dict[str, int] = {}
        with transaction(con):
            con.execute("INSERT INTO collect_runs VALUES (?, ?, NULL, ?, 'running', 0, 0)",
                        [self.run_id, self.clock(), collector_version()])

    # --- seeds ---------------------------------------------------------------------------
    def seed(self, platform: str, seed: str) -> SeedState:
        """The seed's saved state (a new one when it was never collected)."""
        row = self.con.execute(f"SELECT {', '.join(SEED_COLUMNS)} FROM collect_seeds WHERE platform = ? AND seed = ?",
                               [platform, seed]).fetchone()
        return SeedState(platform, seed, **dict(zip(SEED_COLUMNS, row, strict=True))) if row else \
            SeedState(platform, seed)

    def save_seed(self, state: SeedState) -> None:
        with transaction(self.con):
            self._save_seed(state)

    def _save_seed(self, state: SeedState) -> None:
        values = [getattr(state, f.name) for f in fields(state)]
        self.con.execute(f"INSERT OR REPLACE INTO collect_seeds (platform, seed, {', '.join(SEED_COLUMNS)}, "
                         f"updated_at) VALUES ({', '.join('?' * (len(values) + 1))})", [*values, self.clock()])

    def withdrawn(self, platform: str, author_id: str | None, handle: str | None = None) -> bool:
        """Whether the account withdrew from the study (`ethnoflow forget`): it is not collected again."""
        if not self.con.execute("SELECT count(*) FROM withdrawal_blocklist").fetchone()[0]:
            return False
        from flows.privacy.pseudonym import keyed_hash, secret_for

        secret = secret_for(self.con)
        keys = ([f"account:{platform}:{author_id}"] if author_id else []) + \
            ([f"handle:{platform}:{handle.lower()}"] if handle else [])
        hashes = [keyed_hash(secret, k) for k in keys]
        return bool(self.con.execute("SELECT count(*) FROM withdrawal_blocklist WHERE list_contains(?, key_hash)",
                                     [hashes]).fetchone()[0])

    def skip_withdrawn(self, state: SeedState) -> bool:
        """Record a withdrawn account's seed as such (and forget where its walk was); True if it is."""
        if not self.withdrawn(state.platform, state.author_id, state.handle):
            return False
        state.status, state.error = "withdrawn", "the account withdrew from the study (ethnoflow forget)"
        state.cursor = state.walk_top = None
        self.save_seed(state)
        return True

    # --- pages ---------------------------------------------------------------------------
    def durable(self, state: SeedState, pages: list[dict]) -> list:
        """Write ``pages`` as a file, ingest it, then save the seed's state: in that order, so
        the saved cursor never runs ahead of what the store holds. Returns the ingest reports."""
        reports = []
        if pages:
            path = self._write(state, pages)
            reports = self.ingest([path])
        self.save_seed(state)
        return reports

    def ingest(self, paths: list[Path]) -> list:
        if self._ingest is None:
            from flows.ingest.files import ingest

            self._ingest = ingest
        reports = self._ingest(self.con, paths)
        self.ingested += sum(r.ingested for r in reports)
        return reports

    def _write(self, state: SeedState, pages: list[dict]) -> Path:
        key = f"{state.platform}/{_slug(state.seed)}"
        n = self._checkpoints[key] = self._checkpoints.get(key, 0) + 1
        path = self.folder / state.platform / _slug(state.seed) / f"{self.run_id}-{n:04d}.jsonl"
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name("." + path.name + ".tmp")
        with open(tmp, "w", encoding="utf-8") as fh:
            for page in pages:
                fh.write(json.dumps(page, ensure_ascii=False, separators=(",", ":")) + "\n")
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
        self.files += 1
        from flows.privacy.outputs import record

        record(self.con, [path], "collected pages", pseudonymized=False)  # a withdrawal lists them
        return path

    # --- the manifest --------------------------------------------------------------------
    def call(self, platform: str, seed: str, endpoint: str, params: dict) -> Call:
        """Start a manifest row for an endpoint (its parameters without cursors or secrets)."""
        call = Call(platform, seed, endpoint, params, self.clock())
        self.calls.append(call)
        return call

    def finish(self, status: str) -> dict:
        """Record the run's manifest; return it."""
        with transaction(self.con):
            for n, c in enumerate(self.calls, 1):
                self.con.execute("INSERT INTO collect_calls VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                                 [self.run_id, n, c.platform, c.seed, c.endpoint, canonical(c.params),
                                  c.started_at, c.pages, c.posts, c.status])
            self.con.execute("UPDATE collect_runs SET finished_at = ?, status = ?, pages = ?, posts = ? "
                             "WHERE run_id = ?", [self.clock(), status, sum(c.pages for c in self.calls),
                                                  sum(c.posts for c in self.calls), self.run_id])
        return {"run": self.run_id, "status": status, "pages": sum(c.pages for c in self.calls),
                "posts": sum(c.posts for c in self.calls), "files": self.files, "ingested": self.ingested}


def redact_pages(folder: Path, platform: str, post_ids: list[str]) -> int:
    """Cut deleted posts out of the pages kept as collected, as the store's raw records were cut
    (:func:`flows.privacy.redact.redact_payload`); a page left with nothing goes. Returns files changed."""
    from flows.privacy.redact import Target, redact_payload

    if not post_ids or not (Path(folder) / platform).is_dir():
        return 0
    target, changed = Target(set(post_ids), set(), set(post_ids), set()), 0
    for path in sorted((Path(folder) / platform).rglob("*.jsonl")):
        text = path.read_text(encoding="utf-8")
        if not any(p in text for p in post_ids):
            continue
        lines = [redact_payload(line, target) if any(p in line for p in post_ids) else line
                 for line in text.splitlines()]
        tmp = path.with_name("." + path.name + ".tmp")
        tmp.write_text("".join(line + "\n" for line in lines if line is not None), encoding="utf-8")
        os.replace(tmp, path)
        changed += 1
    return changed


def seeds(con: duckdb.DuckDBPyConnection) -> list[dict]:
    """Every seed's state, for `ethnoflow collect --json` and the report."""
    cols = ("platform", "seed", "author_id", "handle", "status", "error", "updated_at")
    return [dict(zip(cols, r, strict=True)) for r in con.execute(
        f"SELECT {', '.join(cols)} FROM collect_seeds ORDER BY platform, seed").fetchall()]
