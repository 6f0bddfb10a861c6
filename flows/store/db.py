"""The DuckDB store: where the database lives, how to open it, and atomic changes.

Every stage talks to the others through named tables in one DuckDB file. Opening a
database for writing applies any pending migrations first, so every command sees the
current schema.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb

from flows.errors import UserError

DEFAULT_DB = Path("data") / "ethnoflow.duckdb"
ENV_DB = "ETHNOFLOW_DB"
# DuckDB would otherwise cache up to 80% of RAM; past this it spills to disk beside the store.
ENV_MEMORY = "ETHNOFLOW_DUCKDB_MEMORY"
DEFAULT_MEMORY = "1GB"
ENV_THREADS = "ETHNOFLOW_DUCKDB_THREADS"  # unset: DuckDB's default, one thread per core


class StoreError(UserError):
    """A database problem explained for the person at the keyboard."""


def resolve_db_path(db: str | Path | None = None, default: Path | None = None) -> Path:
    """Pick the database file: `--db`, then `$ETHNOFLOW_DB`, then the study's or the default.

    Args:
        db: the path given on the command line, if any.
        default: the study's database path, when a study file names one.
    """
    if db:
        return Path(db)
    if os.environ.get(ENV_DB):
        return Path(os.environ[ENV_DB])
    return default or DEFAULT_DB


def connect(path: str | Path, *, read_only: bool = False, wait: float = 0.0) -> duckdb.DuckDBPyConnection:
    """Open the store, creating and migrating it when opened for writing.

    Args:
        path: the DuckDB file (``:memory:`` works for tests).
        read_only: open without taking the write lock; the file must exist.
        wait: seconds to keep retrying while another process holds the lock.

    Raises:
        StoreError: the file is missing (read-only) or locked by another process.
    """
    path = str(path)
    if path != ":memory:":
        if read_only and not Path(path).exists():
            raise StoreError(f"{path}: no database here yet; run `ethnoflow ingest FILE` first")
        if not read_only:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
    threads = _threads(os.environ[ENV_THREADS]) if os.environ.get(ENV_THREADS) else None
    con = _open(path, read_only, wait)
    con.execute("SET TimeZone = 'UTC'")
    con.execute("SET memory_limit = ?", [os.environ.get(ENV_MEMORY, DEFAULT_MEMORY)])
    if threads:
        con.execute("SET threads = ?", [threads])
    if not read_only:
        from flows.store.migrations import migrate

        migrate(con)
    return con


def _threads(value: str) -> int:
    if not value.strip().isdigit() or int(value) < 1:
        raise StoreError(f"{ENV_THREADS}={value!r}: not a number of threads; set a whole number from 1 up, "
                         "or unset it for one per core")
    return int(value)


def _open(path: str, read_only: bool, wait: float) -> duckdb.DuckDBPyConnection:
    deadline = time.monotonic() + wait
    while True:
        try:
            return duckdb.connect(path, read_only=read_only)
        except duckdb.IOException as exc:
            if "lock" not in str(exc).lower():
                raise StoreError(f"{path}: cannot open the database: {exc}") from exc
            if time.monotonic() >= deadline:
                raise StoreError(
                    f"{path}: another ethnoflow process is using this database; "
                    "wait for it to finish (or pass --wait SECONDS) and try again"
                ) from exc
            time.sleep(0.5)


@contextmanager
def transaction(con: duckdb.DuckDBPyConnection) -> Iterator[duckdb.DuckDBPyConnection]:
    """Run a block atomically: everything it wrote is kept, or nothing is."""
    con.execute("BEGIN TRANSACTION")
    try:
        yield con
    except BaseException:
        con.execute("ROLLBACK")
        raise
    con.execute("COMMIT")


def sql_text(name: str) -> str:
    """Read a stage's `.sql` file: ``"ingest/merge.sql"`` is `flows/ingest/sql/merge.sql`."""
    stage, _, file = name.partition("/")
    return (Path(__file__).resolve().parents[1] / stage / "sql" / file).read_text(encoding="utf-8")


def rewrite(path: str | Path) -> None:
    """Copy the whole database (schema and rows) into a fresh file and put it in place.

    DuckDB keeps the bytes of deleted rows in the file's freed blocks until they are reused, so a
    store a withdrawal removed an account from still holds its text on disk. A rewrite leaves
    only what the tables hold. Call with no connection open (the caller holds the study lock).
    """
    path = Path(path)
    fresh = path.with_name(f".{path.name}.{os.getpid()}.rewrite")
    fresh.unlink(missing_ok=True)
    con = duckdb.connect(":memory:")
    try:
        con.execute(f"ATTACH '{_quoted(path)}' AS old (READ_ONLY)")
        con.execute(f"ATTACH '{_quoted(fresh)}' AS fresh")
        con.execute("COPY FROM DATABASE old TO fresh")
        con.execute("DETACH fresh")
        con.execute("DETACH old")
    except BaseException:
        fresh.unlink(missing_ok=True)
        raise
    finally:
        con.close()
    os.replace(fresh, path)
    Path(str(path) + ".wal").unlink(missing_ok=True)  # nothing pending: the old file was closed clean


def _quoted(path: Path) -> str:
    return str(path).replace("'", "''")
