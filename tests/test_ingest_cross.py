"""The same three posts written in different formats give identical canonical rows."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import FIXTURES

from flows.ingest.files import ingest
from flows.store.db import connect

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
def test_same_posts_in_another_format_give_identical_rows(duckdb_default_threads, tmp_path, other):
    page, them = canonical(tmp_path, "page.jsonl"), canonical(tmp_path, other)
    assert len(page["posts"]) == 3
    for part in ("posts", "metrics", "authors", "entities", "urls"):
        assert them[part] == page[part], part


def test_what_each_format_cannot_carry(tmp_path):
    # A bare API v2 document has no twarc metadata, so no retrieval time.
    assert canonical(tmp_path, "document.json")["retrieved"] == [(None,)]
    assert canonical(tmp_path, "page.jsonl")["retrieved"] != [(None,)]


def test_an_x_archive_gives_the_same_rows_for_its_owners_posts(tmp_path):
    # The archive of @DrBlake_MD holds two of the three posts: the reply and the retweet.
    owner_posts = ("1300000000000000002", "1300000000000000003")

    def rows(path):
        con = connect(tmp_path / f"{path.name}.duckdb")
        ingest(con, [path])
        cur = con.execute("SELECT * EXCLUDE (source_sha256, record_no, item_no, parser_version) FROM posts "
                          "WHERE post_id IN ? ORDER BY post_id", [list(owner_posts)])
        names = [d[0] for d in cur.description]
        posts = [dict(zip(names, row)) for row in cur.fetchall()]
        entities = con.execute("SELECT * FROM entities WHERE post_id IN ? ORDER BY ALL", [list(owner_posts)]).fetchall()
        author = con.execute("SELECT platform, author_id, handle, display_name, created_at FROM authors "
                             "WHERE author_id = '1002'").fetchall()
        con.close()
        return posts, entities, author

    (archive, archive_entities, archive_author), (api, api_entities, api_author) = (
        rows(CROSS / "archive"), rows(CROSS / "page.jsonl"))
    assert [p["post_id"] for p in archive] == list(owner_posts)
    # What an archive does not carry: reply and quote counts, a reply's conversation root, which
    # post a retweet reposts, and a retrieval time. The API pages here give no `source`.
    cannot = {"conversation_id", "reply_count", "quote_count", "reposted_post_id", "retrieved_at", "source"}
    carried = [k for k in archive[0] if k not in cannot]
    for ours, theirs in zip(archive, api):
        assert [ours[k] for k in carried] == [theirs[k] for k in carried], ours["post_id"]
    assert [p["source"] for p in archive] == ["Twitter Web App"] * 2
    assert archive_entities == api_entities
    assert archive_author == api_author


def test_small_files_parsed_the_same_way_share_a_batch_and_keep_their_own_counts(tmp_path, monkeypatch):
    """Each batch pays the family SQL's fixed cost, so small files of one format are parsed together;
    every file still gets its own read and reject counts, as when ingested one by one."""
    import flows.ingest.normalize as normalize

    files = sorted((FIXTURES / "ingest" / "twarc2").glob("*.jsonl"))
    alone = {}
    for f in files:
        (report,) = ingest(connect(tmp_path / f"{f.stem}.duckdb"), [f])
        alone[f.name] = (report.read, report.rejected)
    staged, stage = [], normalize.stage_batch

    def counted(cur, how, groups, **kw):
        staged.append(len(groups))
        return stage(cur, how, groups, **kw)

    monkeypatch.setattr(normalize, "stage_batch", counted)
    together = ingest(connect(tmp_path / "all.duckdb"), files)
    assert staged == [len(files)]  # one batch for all of them
    assert {Path(r.path).name: (r.read, r.rejected) for r in together} == alone
    assert sum(r.ingested + r.duplicates for r in together) == sum(r.read - r.rejected for r in together)
