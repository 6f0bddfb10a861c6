"""Deleted posts leave the corpus: the platform said so (a later listRecords lacks a Bluesky post,
or an X compliance result says ``delete``), and the study honours it as `forget` honours a withdrawal.

Each post goes from every table (its reposts with it; other people's rows that point at it keep
their own content and lose the pointer), its raw records are redacted, and one audit row per post
records a keyed hash of it, the evidence, the time and the row counts: never its id or text.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import duckdb
import pyarrow as pa

from flows.privacy.forget import remove
from flows.privacy.pseudonym import keyed_hash, remember_key, secret_for
from flows.privacy.redact import Target


@dataclass
class DeletionReport:
    """What honouring deletions removed."""

    posts: int = 0
    counts: dict[str, dict[str, int]] = field(default_factory=dict)


def remove_deleted(con: duckdb.DuckDBPyConnection, platform: str, post_ids: list[str], evidence: str, *,
                   secret: bytes | None = None) -> DeletionReport:
    """Remove posts their platform deleted, with an audit row each (call outside a transaction).

    Args:
        post_ids: the posts' ids as the store keeps them (at:// URIs, tweet ids); unknown ones are ignored.
        evidence: what said so: ``bluesky:listRecords`` or ``x:compliance:<reason>``.
    """
    known = [r[0] for r in con.execute(
        "SELECT post_id FROM posts WHERE platform = ? AND post_id IN (SELECT unnest(?::VARCHAR[])) ORDER BY 1",
        [platform, sorted(set(post_ids))]).fetchall()]
    if not known:
        return DeletionReport()
    secret = secret if secret is not None else secret_for(con)
    con.execute("BEGIN TRANSACTION")
    try:
        reposts = [r[0] for r in con.execute(
            "SELECT post_id FROM posts WHERE platform = ? AND reposted_post_id IN (SELECT unnest(?::VARCHAR[]))",
            [platform, known]).fetchall()]
        gone = sorted(set(known) | set(reposts))
        con.register("_deleted_posts", pa.table({"platform": [platform] * len(gone), "post_id": gone}))
        con.execute("CREATE OR REPLACE TEMP TABLE _forget_posts AS SELECT * FROM _deleted_posts")
        con.unregister("_deleted_posts")
        # the ids too: what finds the raw pages that hold them, and masks them where others wrote them
        _, counts = remove(con, [], Target(set(gone), set(), set(gone), set()))
        remember_key(con, secret)
        for post_id in known:
            con.execute("INSERT INTO post_deletions VALUES (?, ?, ?, current_timestamp, ?, ?)",
                        [keyed_hash(secret, f"{platform}:{post_id}"), platform, evidence, len(known),
                         json.dumps(counts, sort_keys=True)])
    except BaseException:
        con.execute("ROLLBACK")
        raise
    con.execute("COMMIT")
    return DeletionReport(len(known), counts)
