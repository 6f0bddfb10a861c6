"""Formats education and social-science researchers use: TAGS, academictwitteR, 4CAT, snscrape.

One fixture per edge case (tests/fixtures/ingest/<tool>/), written in each tool's own shape; each
test pins read = ingested + duplicates + rejected and the rows that matter.
"""

from __future__ import annotations

import pytest
from conftest import FIXTURES, counts

INGEST = FIXTURES / "ingest"


def _kinds(con) -> dict:
    return dict(con.execute("SELECT post_id, kind FROM posts").fetchall())


@pytest.mark.parametrize(("name", "label", "expected"), [
    ("tags/archive.csv", "csv:tags", (3, 3, 0, 0)),
    ("tags/archive_repeated_rows.csv", "csv:tags", (2, 1, 1, 0)),  # a search archived twice: one post
    ("academictwitter/data_1500000000000000112.json", "v2", (2, 2, 0, 0)),
    ("academictwitter/data_1500000000000000121.json", "v2", (1, 1, 0, 0)),  # no users file beside it
    ("academictwitter/users_1500000000000000112.json", "twarc2", (1, 0, 0, 1)),  # read with its data file
    ("fourcat/twitter.csv", "csv:4cat-twitter", (4, 4, 0, 0)),
    ("fourcat/twitter.ndjson", "twarc2", (3, 3, 0, 0)),
    ("fourcat/bluesky.csv", "csv:4cat-bluesky", (2, 2, 0, 0)),
    ("fourcat/bluesky.ndjson", "bluesky", (2, 2, 0, 0)),
    ("snscrape/twitter_search.jsonl", "csv:snscrape", (3, 3, 0, 0)),
    ("snscrape/content_v04.jsonl", "csv:snscrape-content", (1, 1, 0, 0)),
])
def test_each_format_ingests_with_exact_counts(ingest_files, name, label, expected):
    [report] = ingest_files(INGEST / name).values()
    assert (report.format, counts(report)) == (label, expected)


def test_tags_archive_reads_v1_dates_replies_retweets_and_entities_str(ingest_files, con):
    ingest_files(INGEST / "tags" / "archive.csv")
    assert set(_kinds(con).values()) == {"original", "reply", "repost"}
    reply = con.execute("SELECT text, in_reply_to_post_id, strftime(created_at, '%Y-%m-%d %H:%M:%S') FROM posts "
                        "WHERE kind = 'reply'").fetchone()
    assert reply == ("@ms4_jordan Specific, timely & kind. Ask them first what they thought #MedEd",
                     "573174393617350656", "2015-03-04 16:02:37")
    urls = con.execute("SELECT normalized FROM entities WHERE kind = 'url'").fetchall()
    assert urls == [("https://example.org/feedback",)]  # expanded, from entities_str


def test_academictwitter_reads_authors_and_retweet_text_from_the_users_file(ingest_files, con):
    ingest_files(INGEST / "academictwitter" / "data_1500000000000000112.json")
    handles = con.execute("SELECT handle FROM authors ORDER BY handle").fetchall()
    assert handles == [("chief_res_amy",), ("ms3_noor",), ("pgy2_sam",)]
    rt = con.execute("SELECT text FROM posts WHERE kind = 'repost'").fetchone()[0]
    assert rt.endswith("Sponsorship is mentorship with skin in the game. #MedEd")  # whole, from includes.tweets


def test_fourcat_csv_takes_the_kind_from_its_yes_no_columns(ingest_files, con):
    ingest_files(INGEST / "fourcat" / "twitter.csv")
    assert sorted(_kinds(con).values()) == ["original", "quote", "reply", "repost"]


def test_fourcat_ndjson_reads_the_enriched_tweets_and_their_author_user(ingest_files, con):
    ingest_files(INGEST / "fourcat" / "twitter.ndjson", INGEST / "fourcat" / "bluesky.ndjson")
    assert con.execute("SELECT count(*) FROM authors WHERE bio IS NOT NULL AND platform = 'twitter'").fetchone()[0] == 2
    reply = con.execute("SELECT in_reply_to_post_id FROM posts WHERE platform = 'bluesky' AND kind = 'reply'")
    assert reply.fetchone()[0].endswith("/3kuaaaaaaaa2a")
    mention = con.execute("SELECT value, target_id, start_pos, end_pos FROM entities WHERE platform = 'bluesky' "
                          "AND kind = 'mention'").fetchone()
    assert mention == ("educator.bsky.social", "did:plc:fourcatexample00000000001", 0, 21)


def test_snscrape_ids_are_exact_and_retweets_name_their_original(ingest_files, con):
    ingest_files(INGEST / "snscrape" / "twitter_search.jsonl")
    rows = con.execute("SELECT post_id, kind, reposted_post_id, in_reply_to_author_id FROM posts ORDER BY 1").fetchall()
    assert rows == [("1550000000000000301", "original", None, None), ("1550000000000000302", "reply", None, "6001"),
                    ("1550000000000000303", "repost", "1550000000000000301", None)]
    assert con.execute("SELECT impression_count FROM posts WHERE post_id = '1550000000000000301'").fetchone() == (3100,)
