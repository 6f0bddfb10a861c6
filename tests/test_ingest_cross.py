"""The same three posts written in different formats give identical canonical rows."""

from __future__ import annotations

import pytest
from conftest import FIXTURES

from flows.db import connect
from flows.ingest import ingest

CROSS = FIXTURES / "ingest" / "cross"
POST_COLUMNS = ("platform, post_id, author_id, author_handle, created_at, text, lang, kind, "
                "in_reply_to_post_id, in_reply_to_author_id, quoted_post_id, reposted_post_id, conversation_id")
METRICS = "like_count, repost_count, reply_count, quote_count"
AUTHOR_COLUMNS = "platform, author_id, handle, display_name, bio, followers_count, following_count, post_count"


def canonical(tmp_path, name: str) -> dict:
    con = connect(tmp_path / f"{name}.duckdb")
    ingest(con, [CROSS / name])
    return {
        "posts": con.execute(f"SELECT {POST_COLUMNS} FROM posts ORDER BY post_id").fetchall(),
        "metrics": con.execute(f"SELECT post_id, {METRICS} FROM posts WHERE kind <> 'repost' ORDER BY 1").fetchall(),
        "authors": con.execute(f"SELECT {AUTHOR_COLUMNS} FROM authors ORDER BY author_id").fetchall(),
        "entities": con.execute("SELECT post_id, kind, value, normalized, start_pos, end_pos FROM entities "
                                "WHERE kind <> 'url' ORDER BY ALL").fetchall(),
        "urls": con.execute("SELECT post_id, normalized FROM entities WHERE kind = 'url' ORDER BY ALL").fetchall(),
        "retrieved": con.execute("SELECT DISTINCT retrieved_at FROM posts").fetchall(),
    }


@pytest.mark.parametrize("other", ["flat.jsonl", "document.json", "twarc-csv.csv"])
def test_same_posts_in_another_format_give_identical_rows(tmp_path, other):
    page, them = canonical(tmp_path, "page.jsonl"), canonical(tmp_path, other)
    assert len(page["posts"]) == 3
    for part in ("posts", "metrics", "authors", "entities", "urls"):
        assert them[part] == page[part], part


def test_what_each_format_cannot_carry(tmp_path):
    # A bare API v2 document has no twarc metadata, so no retrieval time.
    assert canonical(tmp_path, "document.json")["retrieved"] == [(None,)]
    assert canonical(tmp_path, "page.jsonl")["retrieved"] != [(None,)]
