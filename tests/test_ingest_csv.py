"""Tabular exports: twarc-csv, twitwi/minet/gazouilloire, Topsy, and any CSV with a mapping."""

from __future__ import annotations

import pytest
from conftest import FIXTURES, assert_entities_select_their_text, counts, snapshot

from flows.ingest.formats import NotACorpus

OWN = FIXTURES / "ingest" / "csv"
TWITWI = "twitwi/test/resources"
TOPSY = "healthcare_twitter_analysis/files"


@pytest.mark.parametrize("name, expected", [
    ("Tweets_BleedingDisorders_full.csv", (360, 360, 0, 0)),
    ("Tweets_CancerChat_full.csv", (156, 156, 0, 0)),
    ("Tweets_Celiac_full.csv", (5675, 5675, 0, 0)),
    ("Tweets_Cholera_full.csv", (1610, 1610, 0, 0)),
    ("Tweets_RareDiseaseDay_full.csv", (120, 120, 0, 0)),
])
def test_topsy_health_chats(shared, ingest_files, name, expected):
    report = ingest_files(shared / TOPSY / name)[name]
    assert report.format == "csv:topsy" and counts(report) == expected


def test_topsy_times_come_from_the_snowflake_and_match_the_date_column(shared, ingest_files, con):
    ingest_files(shared / TOPSY / "Tweets_CancerChat_full.csv")
    # firstpost_date is the US date of posting: the UTC time from the id is within a day of it.
    off = con.execute("""
        SELECT max(abs(date_diff('hour', p.created_at, strptime(json_extract_string(r.payload, '$.firstpost_date'),
                                                                '%m/%d/%y')::TIMESTAMPTZ)))
        FROM posts p JOIN raw_records r USING (source_sha256, record_no)""").fetchone()[0]
    assert off <= 48


def test_topsy_chat_hashtags_and_decoded_text(shared, ingest_files, con):
    ingest_files(shared / TOPSY / "Tweets_CancerChat_full.csv")
    tagged = con.execute("SELECT count(DISTINCT post_id) FROM entities WHERE normalized = 'cancerchat'").fetchone()[0]
    assert tagged > 100
    assert con.execute("SELECT count(*) FROM posts WHERE text LIKE '%&amp;%'").fetchone() == (0,)


@pytest.mark.parametrize("name, fmt, expected", [
    ("tweet-export.csv", "csv:twitwi", (4, 4, 0, 0)),
    ("tweet-export.jsonl", "csv:gazouilloire", (4, 4, 0, 0)),
    ("normalized-alternative-payload.json", "csv:twitwi", (157, 157, 0, 0)),
    ("normalized-tweets-v2.json", "csv:twitwi", (20, 20, 0, 0)),
    ("normalized-tweets-v2-all.json", "csv:twitwi", (24, 24, 0, 0)),
    ("user-export.csv", "csv:twitwi-users", (3, 0, 0, 3)),
    ("normalized-users.json", "csv:twitwi-users", (3, 0, 0, 3)),
])
def test_twitwi_exports(shared, ingest_files, name, fmt, expected):
    report = ingest_files(shared / TWITWI / name)[name]
    assert (report.format, counts(report)) == (fmt, expected)


def test_twitwi_csv_and_elasticsearch_dump_agree(shared, tmp_path):
    from flows.ingest.files import ingest
    from flows.store.db import connect

    rows = []
    for name in ("tweet-export.csv", "tweet-export.jsonl"):
        con = connect(tmp_path / f"{name}.duckdb")
        ingest(con, [shared / TWITWI / name])
        rows.append(con.execute("SELECT post_id, author_id, created_at, text, kind, reposted_post_id, "
                                "in_reply_to_post_id FROM posts ORDER BY post_id").fetchall())
    assert rows[0] == rows[1] and len(rows[0]) == 4


def test_own_topsy_sample_covers_the_format(ingest_files, con):
    assert counts(ingest_files(OWN / "topsy_sample.csv")["topsy_sample.csv"]) == (3, 3, 0, 0)
    kinds = dict(con.execute("SELECT post_id, kind FROM posts").fetchall())
    assert kinds["474597519729491970"] == "repost"  # "RT @name:" with no retweet id column
    assert con.execute("SELECT DISTINCT author_id FROM posts ORDER BY 1").fetchall()[0] == ("@nurse_friend",)
    assert_entities_select_their_text(con)


def test_generic_csv_with_a_mapping(ingest_files, con):
    report = ingest_files(OWN / "my_export.csv", mapping=OWN / "my_export.mapping.yaml")["my_export.csv"]
    assert report.format == "csv:custom:my-export" and counts(report) == (4, 3, 0, 1)
    texts = dict(con.execute("SELECT post_id, text FROM posts").fetchall())
    assert texts["1500000000000000003"] == "Line one\nline two of a multi-line tweet"
    assert '"mentor"' in texts["1500000000000000001"]
    assert con.execute("SELECT kind, in_reply_to_post_id FROM posts WHERE post_id = '1500000000000000002'"
                       ).fetchone() == ("reply", "1500000000000000001")
    assert con.execute("SELECT reason FROM rejects").fetchone() == ("no post id in column Tweet ID",)


def test_reparse_uses_the_stored_mapping(ingest_files, con, tmp_path):
    from flows.ingest.reparse import reparse

    mapping = tmp_path / "m.yaml"
    mapping.write_text((OWN / "my_export.mapping.yaml").read_text())
    ingest_files(OWN / "my_export.csv", mapping=mapping)
    before = snapshot(con)
    mapping.unlink()  # the mapping travels with the source
    reparse(con)
    assert snapshot(con) == before


@pytest.mark.parametrize("csv_name, mapping, culprit, message", [
    ("unknown_columns.csv", None, "unknown_columns.csv", "columns not recognised (a, b, c); write a column mapping"),
    ("my_export.csv", "bad_mapping.yaml", "bad_mapping.yaml", "[fields -> txt] unknown field; did you mean 'text'?"),
    ("latin1.csv", "my_export.mapping.yaml", "latin1.csv", "save it as 'CSV UTF-8'"),
])
def test_unreadable_tables_are_refused_with_the_fix(ingest_files, con, csv_name, mapping, culprit, message):
    with pytest.raises(NotACorpus) as err:
        ingest_files(OWN / csv_name, mapping=OWN / mapping if mapping else None)
    assert message in str(err.value) and culprit in str(err.value)
    assert con.execute("SELECT count(*) FROM sources").fetchone() == (0,)


def test_mapping_columns_must_exist(ingest_files, tmp_path):
    other = tmp_path / "other.csv"
    other.write_text("Tweet ID,Username,Tweet,Likes,In reply to\n1,a,hello,0,\n")
    with pytest.raises(NotACorpus, match="columns named in .* are missing: Date"):
        ingest_files(other, mapping=OWN / "my_export.mapping.yaml")
