"""X archive ingest: tweets.js parts, the author from account.js, and archive files that hold no posts."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime

import pytest
from conftest import FIXTURES, assert_entities_select_their_text, counts

from flows.ingest.formats import NotACorpus

ARCHIVE = FIXTURES / "ingest" / "archive"
OWNER = ("1400000000000000042", "dr_example")


def test_archive_parts_and_account_counts(ingest_files):
    reports = ingest_files(ARCHIVE)
    assert {name: (r.format, counts(r)) for name, r in reports.items()} == {
        "account.js": ("archive", (1, 0, 0, 1)),  # the account is context, not posts
        "tweets.js": ("archive", (5, 5, 0, 0)),
        "tweets-part1.js": ("archive", (2, 2, 0, 0)),
    }


def test_archive_author_comes_from_account_js(ingest_files, con):
    ingest_files(ARCHIVE / "tweets.js", ARCHIVE / "tweets-part1.js")
    assert con.execute("SELECT DISTINCT author_id, author_handle FROM posts").fetchall() == [OWNER]
    assert con.execute("SELECT author_id, handle, display_name, created_at FROM authors").fetchall() == [
        (*OWNER, "Dr Example", datetime(2012, 6, 7, 8, 9, 10, tzinfo=UTC))]


def test_archive_without_account_js_still_ingests(tmp_path, ingest_files, con):
    shutil.copy(ARCHIVE / "tweets.js", tmp_path / "tweets.js")
    assert counts(ingest_files(tmp_path / "tweets.js")["tweets.js"]) == (5, 5, 0, 0)
    # Archive tweets do not name their author: without account.js it is unknown.
    assert con.execute("SELECT DISTINCT author_id, author_handle FROM posts").fetchall() == [(None, None)]
    assert con.execute("SELECT count(*) FROM authors").fetchone() == (0,)


def test_archive_kinds_texts_and_string_numbers(ingest_files, con):
    ingest_files(ARCHIVE / "tweets.js")
    rows = con.execute("SELECT post_id, kind, in_reply_to_post_id, in_reply_to_author_id, reposted_post_id, "
                       "like_count, repost_count, length(text) FROM posts ORDER BY post_id").fetchall()
    assert rows == [
        ("1500000000000000031", "original", None, None, None, 7, 2, 71),
        ("1500000000000000032", "reply", "1500000000000000013", "1400000000000000003", None, 1, 0, 61),
        # An archive retweet is only its "RT @name: " text; which post it reposts is not said.
        ("1500000000000000033", "repost", None, None, None, 0, 0, 73),
        ("1500000000000000034", "original", None, None, None, 31, 4, 317),  # a long post, over 280
        ("1500000000000000035", "original", None, None, None, 0, 0, 63)]
    texts = dict(con.execute("SELECT post_id, text FROM posts").fetchall())
    assert texts["1500000000000000035"].endswith("<b>not html</b>")  # &lt;b&gt; decoded
    assert con.execute("SELECT DISTINCT created_at, retrieved_at FROM posts WHERE post_id LIKE '%31'").fetchall() == [
        (datetime(2022, 2, 28, 8, 0, tzinfo=UTC), None)]


def test_archive_entities_select_their_text(ingest_files, con):
    ingest_files(ARCHIVE / "tweets.js", ARCHIVE / "tweets-part1.js")
    kinds = dict(con.execute("SELECT kind, count(*) FROM entities GROUP BY kind").fetchall())
    assert kinds == {"hashtag": 4, "mention": 4, "url": 1, "cashtag": 1}
    assert_entities_select_their_text(con)


@pytest.mark.parametrize("name, kind", [
    ("account.js", "account"), ("account-suspension.js", "account_suspension"), ("app.js", "app"),
    ("follower.js", "follower"), ("following.js", "following"), ("saved-search.js", "saved_search"),
])
def test_non_tweet_archive_files_are_refused(shared, ingest_files, con, name, kind):
    report = ingest_files(shared / "twitter-to-sqlite/tests/zip_contents" / name)[name]
    assert (report.format, counts(report)) == ("archive", (1, 0, 0, 1))
    assert con.execute("SELECT item_no, reason FROM rejects").fetchall() == [(0, f"X archive '{kind}' data, not posts")]


def test_deleted_tweets_are_not_ingested(ingest_files, con, tmp_path):
    body = (ARCHIVE / "tweets-part1.js").read_text()
    body = body.replace("window.YTD.tweets.part1", "window.YTD.deleted_tweets.part0")
    (tmp_path / "deleted-tweets.js").write_text(body)
    assert counts(ingest_files(tmp_path / "deleted-tweets.js")["deleted-tweets.js"]) == (1, 0, 0, 1)
    assert "deletion is respected" in con.execute("SELECT reason FROM rejects").fetchone()[0]


def test_a_broken_account_js_is_named_with_the_fix(ingest_files, con, tmp_path):
    shutil.copy(ARCHIVE / "tweets.js", tmp_path / "tweets.js")
    (tmp_path / "account.js").write_text("window.YTD.account.part0 = [ {")
    with pytest.raises(NotACorpus, match=r"account\.js: cannot read the archive's account"):
        ingest_files(tmp_path / "tweets.js")
    assert con.execute("SELECT count(*) FROM sources").fetchone() == (0,)
