"""twarc2 and API v2 ingest: real twarc2 output, and one fixture file per edge case."""

from __future__ import annotations

import shutil

import pytest
from conftest import FIXTURES, assert_entities_select_their_text, counts, snapshot

from flows.ingest.files import ingest
from flows.ingest.formats import NotACorpus

TWARC = "twarc-csv/test-data"
OWN = FIXTURES / "ingest" / "twarc2"

# (read, ingested, duplicates, rejected) for every file, each alone in a fresh store.
SHARED_COUNTS = {
    "noflat.jsonl": (101, 100, 0, 1),  # 1 API error entry
    "flat.jsonl": (100, 100, 0, 0),
    "2sets.jsonl": (201, 200, 0, 1),
    "brexit.jsonl": (100, 100, 0, 0),
    "kpop.jsonl": (101, 100, 0, 1),
    "withheld.jsonl": (220, 215, 0, 5),
    "entities_test.jsonl": (485, 474, 0, 11),
    "streaming_output_with_error.jsonl": (8, 7, 0, 1),  # last line cut mid-JSON
    "edited.jsonl": (1, 1, 0, 0),
    "edited_before.jsonl": (1, 1, 0, 0),
    "edited_after.jsonl": (1, 1, 0, 0),
    "quoted_edit.jsonl": (1, 1, 0, 0),
    "media_tweet.jsonl": (1, 1, 0, 0),
    "cashtags.jsonl": (1, 1, 0, 0),
    "mentions_tweet.jsonl": (1, 1, 0, 0),
    "many_urls.jsonl": (1, 1, 0, 0),
    "verified_type.jsonl": (1, 1, 0, 0),
    "cotweet.jsonl": (1, 1, 0, 0),
    "geo_tweets.jsonl": (2, 2, 0, 0),
    "two_tweets.jsonl": (1, 1, 0, 0),
    "media_policy_violation_on.jsonl": (100, 100, 0, 0),
    "media_policy_violation_off.jsonl": (100, 100, 0, 0),
    # Not tweets: every record refused, with its reason.
    "users.jsonl": (104, 0, 0, 104),
    "lists.jsonl": (6, 0, 0, 6),
    "counts.jsonl": (169, 0, 0, 169),
    "tweets_compliance.jsonl": (2, 0, 0, 2),
    "users_compliance.jsonl": (2, 0, 0, 2),
    "empty.json": (1, 0, 0, 1),
}


@pytest.mark.parametrize("name", sorted(SHARED_COUNTS))
def test_twarc_csv_fixture_counts(shared, ingest_files, name):
    report = ingest_files(shared / TWARC / name)[name]
    assert counts(report) == SHARED_COUNTS[name]


@pytest.mark.parametrize("name, reason", [
    ("users.jsonl", "user profile, not a post"),
    ("lists.jsonl", "list, not a post"),
    ("counts.jsonl", "tweet counts, not posts"),
    ("tweets_compliance.jsonl", "compliance event, not a post"),
    ("empty.json", "empty file: no records"),
    ("streaming_output_with_error.jsonl", "malformed JSON (truncated or corrupt line)"),
])
def test_non_posts_are_rejected_with_their_reason(shared, ingest_files, con, name, reason):
    ingest_files(shared / TWARC / name)
    reasons = {r for (r,) in con.execute("SELECT DISTINCT reason FROM rejects").fetchall()}
    assert reason in reasons


def test_api_error_entries_keep_title_and_detail(shared, ingest_files, con):
    ingest_files(shared / TWARC / "entities_test.jsonl")
    reasons = [r for (r,) in con.execute("SELECT reason FROM rejects ORDER BY item_no").fetchall()]
    assert all(r.startswith("API error: ") for r in reasons)
    assert any("User has been suspended" in r for r in reasons)


def test_flat_and_noflat_give_the_same_posts_and_full_texts(shared, tmp_path):
    from flows.store.db import connect

    tables = []
    for name in ("noflat.jsonl", "flat.jsonl"):
        con = connect(tmp_path / f"{name}.duckdb")
        ingest(con, [shared / TWARC / name])
        tables.append(con.execute(
            "SELECT * EXCLUDE (source_sha256, record_no, item_no) FROM posts ORDER BY post_id").fetchall())
        tables.append(con.execute("SELECT * FROM entities ORDER BY ALL").fetchall())
    assert len(tables[0]) == 100
    assert tables[0] == tables[2] and tables[1] == tables[3]
    texts = [row[5] for row in tables[0]]
    assert not any(t.endswith("…") for t in texts)  # 39 retweets were cut off in data.text


def test_both_shapes_in_one_store_are_one_set_of_posts(shared, ingest_files):
    reports = ingest_files(shared / TWARC / "noflat.jsonl", shared / TWARC / "flat.jsonl")
    assert counts(reports["flat.jsonl"]) == (100, 0, 100, 0)


def test_entity_offsets_select_their_text(shared, ingest_files, con):
    ingest_files(*(shared / TWARC / n for n in ("noflat.jsonl", "2sets.jsonl", "kpop.jsonl", "cashtags.jsonl")))
    assert_entities_select_their_text(con)


def test_ids_are_strings_and_times_are_utc(shared, ingest_files, con):
    ingest_files(shared / TWARC / "2sets.jsonl")
    types = dict(con.execute("SELECT column_name, data_type FROM duckdb_columns() "
                             "WHERE table_name = 'posts'").fetchall())
    assert types["post_id"] == "VARCHAR" and types["created_at"] == "TIMESTAMP WITH TIME ZONE"
    assert con.execute("SELECT count(*) FROM posts WHERE NOT regexp_full_match(post_id, '\\d+')").fetchone() == (0,)


def test_withheld_tweets_are_kept_and_marked(shared, ingest_files, con):
    ingest_files(shared / TWARC / "withheld.jsonl")
    marks = dict(con.execute("SELECT withheld, count(*) FROM posts WHERE withheld IS NOT NULL GROUP BY ALL").fetchall())
    assert sum(marks.values()) == 13 and any(m.startswith("user:") for m in marks)


def test_long_post_and_its_retweet_carry_the_full_note_text(ingest_files, con):
    ingest_files(OWN / "long_post.jsonl")
    texts = dict(con.execute("SELECT kind, text FROM posts").fetchall())
    assert len(texts["original"]) > 280 and texts["original"].endswith("#MedTwitter")
    assert texts["repost"] == "RT @pgy2_rivera: " + texts["original"]
    assert_entities_select_their_text(con)


def test_html_entities_are_decoded_and_offsets_follow(ingest_files, con):
    ingest_files(OWN / "html_entities.jsonl")
    assert con.execute("SELECT text FROM posts").fetchone()[0].startswith("Q&A tonight: residents <3 students >")
    assert_entities_select_their_text(con)


def test_mixed_shapes_in_one_file(ingest_files, con):
    report = ingest_files(OWN / "mixed.jsonl")["mixed.jsonl"]
    assert counts(report) == (5, 3, 0, 2)  # page + flattened + stream; truncated + compliance
    assert con.execute("SELECT count(*) FROM raw_records").fetchone() == (5,)  # blank line skipped


def test_errors_only_page_is_two_rejects(ingest_files):
    assert counts(ingest_files(OWN / "errors_only.jsonl")["errors_only.jsonl"]) == (2, 0, 0, 2)


def test_invalid_utf8_line_is_rejected_not_mangled(ingest_files, con):
    assert counts(ingest_files(OWN / "bad_utf8.jsonl")["bad_utf8.jsonl"]) == (2, 1, 0, 1)
    reason, raw = con.execute("SELECT reason, raw FROM rejects").fetchone()
    assert reason.startswith("not UTF-8") and "\\xe9" in raw


@pytest.mark.parametrize("order", [("retrieved_day3.jsonl", "retrieved_day9.jsonl"),
                                   ("retrieved_day9.jsonl", "retrieved_day3.jsonl")])
def test_latest_retrieval_wins_whatever_the_order(ingest_files, con, order):
    for name in order:
        ingest_files(OWN / name)
    assert con.execute("SELECT like_count FROM posts").fetchall() == [(42,)]
    assert con.execute("SELECT followers_count FROM authors").fetchall() == [(420,)]


def test_one_command_with_both_retrievals(ingest_files, con):
    reports = ingest_files(OWN / "retrieved_day9.jsonl", OWN / "retrieved_day3.jsonl")
    assert counts(reports["retrieved_day9.jsonl"]) == (1, 1, 0, 0)
    assert counts(reports["retrieved_day3.jsonl"]) == (1, 0, 1, 0)
    assert con.execute("SELECT like_count FROM posts").fetchall() == [(42,)]


def test_reingesting_changes_nothing(ingest_files, con):
    ingest_files(OWN / "mixed.jsonl")
    before = snapshot(con)
    report = ingest_files(OWN / "mixed.jsonl")["mixed.jsonl"]
    assert report.skipped and snapshot(con) == before


def test_a_copy_under_another_name_is_the_same_source(ingest_files, con, tmp_path):
    ingest_files(OWN / "mixed.jsonl")
    copy = tmp_path / "copy.jsonl"
    shutil.copy(OWN / "mixed.jsonl", copy)
    assert ingest_files(copy)["copy.jsonl"].skipped


@pytest.mark.parametrize("bad", ["image.png", "not_a_corpus.yaml"])
def test_a_file_that_cannot_be_a_corpus_stops_the_command_and_changes_nothing(ingest_files, con, bad):
    ingest_files(OWN / "html_entities.jsonl")
    before = snapshot(con)
    with pytest.raises(NotACorpus, match=bad.replace(".", r"\.")):
        ingest_files(OWN / "mixed.jsonl", FIXTURES / "ingest" / bad)
    assert snapshot(con) == before


def test_a_failure_mid_run_leaves_the_store_as_it_was(ingest_files, con, monkeypatch, tmp_path):
    ingest_files(OWN / "html_entities.jsonl")
    before = snapshot(con)
    from flows.ingest import normalize

    def explode(self, order):
        raise RuntimeError("injected failure during the merge")

    monkeypatch.setattr(normalize.Normalizer, "merge", explode)
    with pytest.raises(RuntimeError):
        ingest_files(OWN / "mixed.jsonl", OWN / "long_post.jsonl")
    assert snapshot(con) == before
    assert not list(tmp_path.glob("ethnoflow-staging-*"))  # the staging folder went too


def test_reparse_rebuilds_identical_tables(duckdb_default_threads, shared, ingest_files, con):
    from flows.ingest.reparse import reparse

    ingest_files(shared / TWARC / "noflat.jsonl", OWN / "mixed.jsonl", OWN / "bad_utf8.jsonl",
                 shared / TWARC / "users.jsonl", shared / TWARC / "empty.json")
    before = snapshot(con)
    reparse(con)
    assert snapshot(con) == before


def test_every_read_record_is_accounted_for(shared, ingest_files, con):
    reports = ingest_files(*(shared / TWARC / n for n in sorted(SHARED_COUNTS)))
    for r in reports.values():
        assert r.read == r.ingested + r.duplicates + r.rejected
    totals = con.execute("SELECT sum(ingested), sum(rejected) FROM sources").fetchone()
    assert totals == (con.execute("SELECT count(*) FROM posts").fetchone()[0],
                      con.execute("SELECT count(*) FROM rejects").fetchone()[0])
    assert con.execute("SELECT count(*) - count(DISTINCT (platform, post_id)) FROM posts").fetchone() == (0,)
    assert con.execute("SELECT count(*) - count(DISTINCT (platform, author_id)) FROM authors").fetchone() == (0,)
