"""Reading and writing the topic tables: runs, topics, representatives, assignments, mappings."""

from __future__ import annotations

import json
from dataclasses import dataclass

import duckdb
import numpy as np

from flows.topics.settings import TopicError, TopicSettings

ASSIGNMENT_COLUMNS = ("run_id", "platform", "post_id", "topic", "probability", "method", "text_sha256")


@dataclass(frozen=True)
class RunInfo:
    """What refreshing or showing a run needs to know about it."""

    run_id: str
    backend: str
    model_id: str
    settings: TopicSettings
    previous_run_id: str | None


def _info(row) -> RunInfo:
    run_id, backend, model_id, settings, previous = row
    return RunInfo(run_id, backend, model_id, TopicSettings.model_validate_json(settings), previous)


_RUN_FIELDS = "run_id, backend, model_id, settings, previous_run_id"


def current_run(con: duckdb.DuckDBPyConnection) -> RunInfo | None:
    """The most recently fitted run (the one refreshes extend), or None before any fit."""
    row = con.execute(f"SELECT {_RUN_FIELDS} FROM topic_runs ORDER BY started_at DESC, run_id LIMIT 1").fetchone()
    return _info(row) if row else None


def get_run(con: duckdb.DuckDBPyConnection, run_id: str | None = None) -> RunInfo:
    """A run by id (a unique prefix will do), or the current run.

    Raises:
        TopicError: no such run, an ambiguous prefix, or no run yet.
    """
    if run_id is None:
        run = current_run(con)
        if run is None:
            raise TopicError("no topic model yet; run `ethnoflow topics` first")
        return run
    rows = con.execute(f"SELECT {_RUN_FIELDS} FROM topic_runs WHERE starts_with(run_id, ?) ORDER BY run_id",
                       [run_id]).fetchall()
    if len(rows) != 1:
        known = ", ".join(r[0] for r in con.execute("SELECT run_id FROM topic_runs ORDER BY run_id").fetchall())
        problem = "matches several runs" if rows else "is not a topic run"
        raise TopicError(f"'{run_id}' {problem}; runs: {known or 'none'}")
    return _info(rows[0])


def _insert(con: duckdb.DuckDBPyConnection, table: str, columns: dict) -> None:
    """Insert columns (name -> list or array) through Arrow: fast for 100,000s of rows."""
    from flows.embed.cache import register_columns

    register_columns(con, "_topics_rows", columns)
    try:
        con.execute(f"INSERT INTO {table} ({', '.join(columns)}) SELECT * FROM _topics_rows")
    finally:
        con.unregister("_topics_rows")


def delete_run(con: duckdb.DuckDBPyConnection, run_id: str) -> None:
    """Remove every row of a run (a run id recomputed from the same inputs is rewritten whole)."""
    for table in ("topic_mappings", "topic_assignments", "topic_representatives", "topics", "topic_runs"):
        con.execute(f"DELETE FROM {table} WHERE run_id = ?", [run_id])


def insert_run(con: duckdb.DuckDBPyConnection, row: dict) -> None:
    """One topic_runs row; ``settings`` and ``versions`` are stored as sorted-key JSON."""
    row = dict(row, settings=row["settings"], versions=json.dumps(row["versions"], sort_keys=True))
    names = ", ".join(row)
    con.execute(f"INSERT INTO topic_runs ({names}) VALUES ({', '.join('?' * len(row))})", list(row.values()))


def insert_rows(con: duckdb.DuckDBPyConnection, table: str, columns: dict) -> None:
    """Insert column-wise rows into one of the topic tables (no-op when empty)."""
    if columns and len(next(iter(columns.values()))):
        _insert(con, table, columns)


def assignments(con: duckdb.DuckDBPyConnection, run_id: str, *, fitted_only: bool = False):
    """(platform, post_id, topic, text_sha256) of a run in canonical order, as columns."""
    where = "AND method <> 'refresh'" if fitted_only else ""
    rows = con.execute(f"""SELECT platform, post_id, topic, text_sha256 FROM topic_assignments
                           WHERE run_id = ? {where} ORDER BY platform, post_id""", [run_id]).fetchall()
    if not rows:
        raise TopicError(f"run {run_id} has no assignments; refit it with `ethnoflow topics --refit`")
    platforms, post_ids, topics, shas = map(list, zip(*rows))
    return platforms, post_ids, np.array(topics, dtype=np.int64), shas


def write_mapping(con: duckdb.DuckDBPyConnection, run_id: str, previous_run_id: str) -> None:
    """Cross-tabulate the posts two runs share: previous topic x new topic."""
    con.execute("""
        INSERT INTO topic_mappings
        SELECT $new, $old, o.topic, n.topic, count(*)
        FROM topic_assignments AS o
        JOIN topic_assignments AS n ON n.platform = o.platform AND n.post_id = o.post_id
        WHERE o.run_id = $old AND n.run_id = $new
        GROUP BY o.topic, n.topic""", {"new": run_id, "old": previous_run_id})


def mapping(con: duckdb.DuckDBPyConnection, run_id: str) -> list[dict]:
    """Per previous topic, the new topic holding most of its posts, and that share."""
    rows = con.execute("""
        WITH totals AS (
            SELECT previous_topic, topic, posts, sum(posts) OVER (PARTITION BY previous_topic) AS total,
                   row_number() OVER (PARTITION BY previous_topic ORDER BY posts DESC, topic) AS pick
            FROM topic_mappings WHERE run_id = ?
        )
        SELECT previous_topic, topic, posts, posts / total FROM totals WHERE pick = 1
        ORDER BY previous_topic""", [run_id]).fetchall()
    return [{"previous_topic": p, "topic": t, "posts": n, "share": round(s, 4)} for p, t, n, s in rows]


def name_topic(con: duckdb.DuckDBPyConnection, run_id: str, topic: int, name: str) -> None:
    """Give a run's topic the researcher's name ('' removes it); the name outlives refreshes.

    Raises:
        TopicError: the run has no such topic.
    """
    known = [t for (t,) in con.execute("SELECT topic FROM topics WHERE run_id = ? ORDER BY topic", [run_id]).fetchall()]
    if topic not in known:
        raise TopicError(f"run {run_id} has no topic {topic}; its topics are {known[0]}..{known[-1]}"
                         if known else f"run {run_id} has no topics")
    from flows.store.db import transaction

    with transaction(con):
        con.execute("DELETE FROM topic_names WHERE run_id = ? AND topic = ?", [run_id, topic])
        if name.strip():
            con.execute("INSERT INTO topic_names VALUES (?, ?, ?, 'researcher', NULL, NULL)",
                        [run_id, topic, " ".join(name.split())])


def carry_names(con: duckdb.DuckDBPyConnection, run_id: str, previous_run_id: str | None) -> int:
    """Names of the previous run's topics given to the refit's matching topics; return how many.

    A named topic's name goes to the new topic holding at least half of its posts, when more
    than half of that new topic's shared posts came from it. A name already given stays.
    """
    if not previous_run_id or previous_run_id == run_id:
        return 0
    before = con.execute("SELECT count(*) FROM topic_names WHERE run_id = ?", [run_id]).fetchone()[0]
    con.execute("""
        WITH m AS (
            SELECT previous_topic, topic, posts,
                   posts / sum(posts) OVER (PARTITION BY previous_topic) AS out_share,
                   posts / sum(posts) OVER (PARTITION BY topic) AS in_share
            FROM topic_mappings WHERE run_id = $new AND previous_run_id = $old
        )
        INSERT INTO topic_names
        SELECT $new, m.topic, n.name, 'carried', $old, m.previous_topic
        FROM m JOIN topic_names AS n ON n.run_id = $old AND n.topic = m.previous_topic
        WHERE m.topic <> -1 AND m.previous_topic <> -1 AND m.out_share >= 0.5 AND m.in_share > 0.5
        ON CONFLICT DO NOTHING""", {"new": run_id, "old": previous_run_id})
    return con.execute("SELECT count(*) FROM topic_names WHERE run_id = ?", [run_id]).fetchone()[0] - before


def names(con: duckdb.DuckDBPyConnection, run_id: str) -> dict[int, str]:
    """The researcher's names of a run's topics (given or carried)."""
    return dict(con.execute("SELECT topic, name FROM topic_names WHERE run_id = ? ORDER BY topic",
                            [run_id]).fetchall())
