"""Append-only, numbered, atomic schema migrations recorded in `_migrations`.

Each migration is a file `flows/store/sql/migrations/NNNN_name.sql`. Never edit one that has
shipped: add the next number. Each is applied in its own transaction together with
its row in `_migrations`, so a database is always at a whole number of migrations.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

MIGRATIONS_DIR = Path(__file__).parent / "sql" / "migrations"


def available() -> list[tuple[str, Path]]:
    """The shipped migrations as (name, path), in order."""
    files = sorted(MIGRATIONS_DIR.glob("[0-9][0-9][0-9][0-9]_*.sql"))
    return [(f.stem, f) for f in files]


def applied(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Names of the migrations already applied to this database."""
    con.execute("CREATE TABLE IF NOT EXISTS _migrations (name VARCHAR PRIMARY KEY)")
    return [r[0] for r in con.execute("SELECT name FROM _migrations ORDER BY name").fetchall()]


def migrate(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Apply every pending migration; return the names applied now."""
    done = set(applied(con))
    ran = []
    for name, path in available():
        if name in done:
            continue
        con.execute("BEGIN TRANSACTION")
        try:
            con.execute(path.read_text(encoding="utf-8"))
            con.execute("INSERT INTO _migrations VALUES (?)", [name])
        except BaseException:
            con.execute("ROLLBACK")
            raise
        con.execute("COMMIT")
        ran.append(name)
    return ran


def schema(con: duckdb.DuckDBPyConnection) -> str:
    """A stable text rendering of every table and column, for the schema snapshot test."""
    rows = con.execute("""
        SELECT table_name, column_name, data_type, is_nullable
        FROM duckdb_columns() WHERE database_name = current_database() AND NOT internal
          AND schema_name = 'main'
        ORDER BY table_name, column_index""").fetchall()
    lines, current = [], None
    for table, column, dtype, nullable in rows:
        if table != current:
            lines.append(f"\n{table}")
            current = table
        lines.append(f"    {column} {dtype}{'' if nullable else ' NOT NULL'}")
    return "\n".join(lines).strip() + "\n"


def fresh_schema() -> str:
    """The schema of a newly created, fully migrated database."""
    con = duckdb.connect()
    migrate(con)
    return schema(con)


if __name__ == "__main__":  # refresh the snapshot: python -m flows.store.migrations > tests/fixtures/schema.txt
    print(fresh_schema(), end="")
