"""Reading topic runs: the stable `topics show --json` document, topics over time and per class."""

from __future__ import annotations

import json

import duckdb

from flows.topics.store import get_run, names

# Where a class of posts can come from, first table present wins: (table, join key, column).
CLASS_SOURCES = {
    "role": [("author_roles", "author", "role")],
    "code": [("code_values", "post", "code")],
}


def show(con: duckdb.DuckDBPyConnection, run_id: str | None = None, *, texts: bool = True) -> dict:
    """A run as a stable JSON-ready document (`ethnoflow topics show --json`).

    Keys ``run``, ``topics`` (each ``topic``, ``label``, ``size``, ``keywords``) and
    ``assignments`` (post id -> topic) are a stable interface; more keys may follow. ``size``
    counts every post now assigned (fitted and refreshed); ``fitted_size`` the fit's own.
    """
    run = get_run(con, run_id)
    meta = con.execute("""SELECT docs, outlier_share, cluster_outlier_share, refresh_agreement, model_id,
                                 backend, previous_run_id FROM topic_runs WHERE run_id = ?""",
                       [run.run_id]).fetchone()
    sizes = dict(con.execute("SELECT topic, count(*) FROM topic_assignments WHERE run_id = ? GROUP BY topic",
                             [run.run_id]).fetchall())
    moved = dict(con.execute("SELECT topic, count(*) FROM topic_assignments WHERE run_id = ? AND method = 'reduced' "
                             "GROUP BY topic", [run.run_id]).fetchall())
    named = names(con, run.run_id)
    topics = []
    for topic, label, size, share, keywords, origin, code_id, code_sim in con.execute(
            """SELECT topic, label, size, share, keywords, origin, code_id, code_similarity
               FROM topics WHERE run_id = ? ORDER BY topic""", [run.run_id]).fetchall():
        topics.append({"topic": topic, "label": named.get(topic, label), "size": sizes.get(topic, 0),
                       "keywords": keywords, "named": topic in named,
                       "moved": moved.get(topic, 0),
                       "fitted_size": size, "share": round(share, 6), "origin": origin, "code": code_id,
                       "code_similarity": None if code_sim is None else round(code_sim, 4),
                       "representatives": _representatives(con, run.run_id, topic, texts)})
    assignments = con.execute("""SELECT post_id, topic FROM topic_assignments WHERE run_id = ?
                                 ORDER BY platform, post_id""", [run.run_id]).fetchall()
    docs, outliers, cluster_outliers, agreement, model_id, backend, previous = meta
    return {"run": run.run_id, "topics": topics, "assignments": dict(assignments),
            "previous_run": previous, "model": model_id, "backend": backend, "fitted_posts": docs,
            "outlier_share": round(outliers, 6), "cluster_outlier_share": round(cluster_outliers, 6),
            "refresh_agreement": agreement, "settings": run.settings.model_dump(mode="json")}


def _representatives(con, run_id: str, topic: int, texts: bool) -> list[dict]:
    rows = con.execute("""
        SELECT r.post_id, r.similarity, p.text FROM topic_representatives AS r
        LEFT JOIN posts AS p ON p.platform = r.platform AND p.post_id = r.post_id
        WHERE r.run_id = ? AND r.topic = ? ORDER BY r.rank""", [run_id, topic]).fetchall()
    return [{"post_id": pid, "similarity": round(sim, 4), **({"text": text} if texts else {})}
            for pid, sim, text in rows]


def over_time(con: duckdb.DuckDBPyConnection, run_id: str | None = None) -> list[dict]:
    """Posts per topic per month (UTC), with the topic's share of that month's posts."""
    run = get_run(con, run_id)
    rows = con.execute("SELECT month, topic, posts, share FROM topic_months WHERE run_id = ? ORDER BY month, topic",
                       [run.run_id]).fetchall()
    return [{"month": m.isoformat()[:7], "topic": t, "posts": n, "share": round(s, 6)} for m, t, n, s in rows]


def _has_table(con, name: str) -> bool:
    """A table or view of that name exists in the store."""
    return con.execute("SELECT count(*) FROM information_schema.tables WHERE table_schema = 'main' "
                       "AND table_name = ?", [name]).fetchone()[0] > 0


def by_class(con: duckdb.DuckDBPyConnection, by: str, run_id: str | None = None, *,
             coder: str = "auto", codebook: str | None = None) -> list[dict] | None:
    """Posts per (class, topic) with the topic's share within the class, or None when the
    class is not in the store yet (roles not assigned, no codes).

    Args:
        by: ``role`` (the author's role, from ``author_roles``) or ``code`` (codes present on
            the post, from ``code_values``; a post counts once per code it has).
        coder: for ``code``: whose codes ('auto', 'consensus', a person).
        codebook: for ``code``: one codebook id; None: all.
    """
    if by not in CLASS_SOURCES:
        raise ValueError(f"by must be one of {', '.join(CLASS_SOURCES)}")
    table, key, column = next(((t, k, c) for t, k, c in CLASS_SOURCES[by] if _has_table(con, t)),
                              (None, None, None))
    if table is None:
        return None
    run = get_run(con, run_id)
    if key == "author":
        join = (f"JOIN posts AS p ON p.platform = a.platform AND p.post_id = a.post_id "
                f"JOIN {table} AS c ON c.platform = p.platform AND c.author_id = p.author_id")
        filters, params = "", [run.run_id]
    else:
        join = f"JOIN {table} AS c ON c.platform = a.platform AND c.post_id = a.post_id"
        filters = "AND c.value = 1 AND c.coder = ?" + (" AND c.codebook = ?" if codebook else "")
        params = [run.run_id, coder] + ([codebook] if codebook else [])
    rows = con.execute(f"""
        WITH counted AS (
            SELECT c.{column} AS class, a.topic, count(*) AS posts
            FROM topic_assignments AS a {join}
            WHERE a.run_id = ? {filters}
            GROUP BY ALL
        )
        SELECT class, topic, posts, posts / sum(posts) OVER (PARTITION BY class)
        FROM counted ORDER BY class, topic""", params).fetchall()
    return [{"class": c, "topic": t, "posts": n, "share": round(s, 6)} for c, t, n, s in rows]


def runs(con: duckdb.DuckDBPyConnection) -> list[dict]:
    """Every topic run, newest first, with its figures and timings."""
    rows = con.execute("""SELECT run_id, previous_run_id, backend, model_id, docs, topics, outlier_share,
                                 refresh_agreement, started_at, total_seconds, settings
                          FROM topic_runs ORDER BY started_at DESC, run_id""").fetchall()
    keys = ("run", "previous_run", "backend", "model", "fitted_posts", "topics", "outlier_share",
            "refresh_agreement", "started_at", "seconds", "settings")
    return [dict(zip(keys, (*r[:8], r[8].isoformat(), round(r[9], 2), json.loads(r[10])))) for r in rows]
