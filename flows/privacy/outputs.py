"""Which files ethnoflow wrote from a store, so that a withdrawal can name the ones written before it.

Every export (datasets, REFI-QDA, id lists, networks) and every report appends one line to
``outputs.jsonl`` beside the store's database: the file, what made it, when, and whether it was
pseudonymised. The ledger holds paths and kinds only, never a name or a text. ``ethnoflow forget``
lists the files in it that still exist: they were written before the withdrawal and may hold the
account (a pseudonymised file holds its words and its pseudonym), so the researcher deletes them
or writes them again.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

LEDGER = "outputs.jsonl"


def ledger_path(con) -> Path | None:
    """The ledger of a store: beside its database file (None for an in-memory store)."""
    row = con.execute("SELECT path FROM duckdb_databases() WHERE database_name = current_database()").fetchone()
    return Path(row[0]).resolve().parent / LEDGER if row and row[0] else None


def record(con, files: list[str | Path], kind: str, *, pseudonymized: bool) -> None:
    """Append the files just written to the store's ledger (a read-only store's too: it is a file)."""
    path = ledger_path(con)
    if path is None:
        return
    when = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    lines = [json.dumps({"path": str(Path(f).resolve()), "kind": kind, "written_at": when,
                         "pseudonymized": pseudonymized}, sort_keys=True) for f in files]
    with open(path, "a", encoding="utf-8") as handle:
        handle.write("".join(line + "\n" for line in lines))


def written(con) -> list[dict]:
    """The files of the ledger that still exist, each once (its last entry), oldest first."""
    path = ledger_path(con)
    if path is None or not path.is_file():
        return []
    last: dict[str, dict] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            entry = json.loads(line)
        except ValueError:  # a line cut short by a crash: the others still count
            continue
        last[entry["path"]] = entry
    return sorted((e for e in last.values() if Path(e["path"]).exists()), key=lambda e: (e["written_at"], e["path"]))
