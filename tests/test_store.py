"""The store: numbered migrations recorded in a table, and the schema they build."""

from __future__ import annotations

import duckdb
import pytest
from conftest import FIXTURES

from flows.store.db import StoreError, connect, resolve_db_path
from flows.store.migrations import applied, available, fresh_schema, migrate


def test_fresh_database_matches_the_schema_snapshot():
    expected = (FIXTURES / "schema.txt").read_text()
    assert fresh_schema() == expected, (
        "the schema changed: add a migration (never edit a shipped one), then refresh the snapshot "
        "with `python -m flows.store.migrations > tests/fixtures/schema.txt`")


def test_migrations_are_numbered_and_recorded(tmp_path):
    con = connect(tmp_path / "a.duckdb")
    names = [name for name, _ in available()]
    assert names == sorted(names) and names[0].startswith("0001_")
    assert applied(con) == names
    assert migrate(con) == []  # nothing left to do


def test_a_failing_migration_leaves_nothing_behind(tmp_path, monkeypatch):
    broken = tmp_path / "9999_broken.sql"
    broken.write_text("CREATE TABLE half_done (x INTEGER);\nTHIS IS NOT SQL;")
    con = duckdb.connect(str(tmp_path / "b.duckdb"))
    migrate(con)
    monkeypatch.setattr("flows.store.migrations.available", lambda: [("9999_broken", broken)])
    with pytest.raises(duckdb.Error):
        migrate(con)
    assert "9999_broken" not in applied(con)
    assert con.execute("SELECT count(*) FROM duckdb_tables() WHERE table_name = 'half_done'").fetchone() == (0,)


def test_database_path_precedence(monkeypatch, tmp_path):
    monkeypatch.delenv("ETHNOFLOW_DB", raising=False)
    assert str(resolve_db_path()) == "data/ethnoflow.duckdb"
    monkeypatch.setenv("ETHNOFLOW_DB", str(tmp_path / "env.duckdb"))
    assert resolve_db_path() == tmp_path / "env.duckdb"
    assert resolve_db_path(tmp_path / "flag.duckdb") == tmp_path / "flag.duckdb"


def test_read_only_open_of_a_missing_store_explains(tmp_path):
    with pytest.raises(StoreError, match="no database here yet"):
        connect(tmp_path / "missing.duckdb", read_only=True)


def test_duckdb_threads_from_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("ETHNOFLOW_DUCKDB_THREADS", "1")
    with connect(tmp_path / "one.duckdb") as con:
        assert con.execute("SELECT current_setting('threads')").fetchone() == (1,)
    monkeypatch.delenv("ETHNOFLOW_DUCKDB_THREADS")
    with connect(tmp_path / "one.duckdb") as con:  # DuckDB's default: one per core
        assert con.execute("SELECT current_setting('threads')").fetchone() == (duckdb.connect().execute(
            "SELECT current_setting('threads')").fetchone()[0],)
    monkeypatch.setenv("ETHNOFLOW_DUCKDB_THREADS", "two")
    with pytest.raises(StoreError, match="ETHNOFLOW_DUCKDB_THREADS='two'.*whole number"):
        connect(tmp_path / "one.duckdb")
