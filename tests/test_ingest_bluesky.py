"""Bluesky ingest: real AT Protocol and twitwi files, and one invented fixture per edge case."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from conftest import FIXTURES, assert_entities_select_their_text, counts, snapshot

from flows.ingest.files import ingest
from flows.store.db import connect

ATPROTO = "atproto/tests/test_atproto_client/models/test_data"
TWITWI = "twitwi/test/resources"
OWN = FIXTURES / "ingest" / "bluesky"
# file -> (folder, --format, (read, ingested, duplicates, rejected)), each alone in a fresh store.
# Every file is detected ("auto"). bluesky-posts-export.csv holds U+FFFD in three real posts:
# valid UTF-8 (the character itself), which must not be mistaken for a decoding error.
SHARED = {
    "post_record.json": (ATPROTO, "auto", (1, 1, 0, 0)),  # getRecord envelope
    "extended_post_record.json": (ATPROTO, "auto", (1, 1, 0, 0)),  # an unknown extra key
    "thread_view_post_with_embed_media.json": (ATPROTO, "auto", (1, 1, 0, 0)),
    "custom_record.json": (ATPROTO, "auto", (1, 0, 0, 1)),
    "like_record.json": (ATPROTO, "auto", (1, 0, 0, 1)),
    "extended_like_record.json": (ATPROTO, "auto", (1, 0, 0, 1)),
    "feed_record.json": (ATPROTO, "auto", (1, 0, 0, 1)),
    "did_doc.json": (ATPROTO, "auto", (1, 0, 0, 1)),
    "resolve_handle.json": (ATPROTO, "auto", (1, 0, 0, 1)),
    "get_follows.json": (ATPROTO, "auto", (1, 0, 0, 1)),
    "bluesky-posts.json": (TWITWI, "auto", (123, 119, 4, 0)),  # 4 posts appear twice
    "bluesky-firehose-posts.json": (TWITWI, "auto", (9, 9, 0, 0)),
    "bluesky-hydrated-firehose-posts.json": (TWITWI, "auto", (9, 9, 0, 0)),
    "bluesky-tap-posts.json": (TWITWI, "auto", (14, 14, 0, 0)),
    # twitwi's lists hold each post with the posts it quotes or replies to: 157 records, 134 posts
    "bluesky-normalized-posts.json": (TWITWI, "auto", (157, 134, 23, 0)),
    "bluesky-normalized-firehose-posts.json": (TWITWI, "auto", (9, 9, 0, 0)),
    "bluesky-normalized-tap-posts.json": (TWITWI, "auto", (14, 14, 0, 0)),
    "bluesky-posts-export.csv": (TWITWI, "auto", (157, 134, 23, 0)),
    "bluesky-firehose-posts-export.csv": (TWITWI, "auto", (9, 9, 0, 0)),
    # profiles, not posts
    "bluesky-profiles.json": (TWITWI, "auto", (5, 0, 0, 5)),
    "bluesky-partial-profiles.json": (TWITWI, "auto", (2, 0, 0, 2)),
    "bluesky-normalized-profiles.json": (TWITWI, "auto", (5, 0, 0, 5)),
    "bluesky-normalized-partial-profiles.json": (TWITWI, "auto", (2, 0, 0, 2)),
    "bluesky-profiles-export.csv": (TWITWI, "auto", (5, 0, 0, 5)),
    "bluesky-partial-profiles-export.csv": (TWITWI, "auto", (2, 0, 0, 2)),
}

OWN_COUNTS = {
    "author_feed.json": ("auto", (8, 8, 0, 0)),
    "feed_pages.jsonl": ("auto", (3, 2, 0, 1)),  # 2 posts; an empty page
    "thread.json": ("auto", (7, 5, 0, 2)),  # 5 posts; a deleted and a blocked reply
    "jetstream.jsonl": ("auto", (7, 2, 0, 5)),
    "tap.jsonl": ("auto", (3, 1, 0, 2)),
    "bare_record.json": ("auto", (1, 1, 0, 0)),
    "list_records.json": ("auto", (2, 2, 0, 0)),
    "facets_unread.json": ("auto", (2, 2, 0, 0)),  # a mention range without its '@'; polls, bold, FACETTAG
}


def shared_file(shared, name):
    folder, fmt, _ = SHARED[name]
    return shared / folder / name, fmt


@pytest.mark.parametrize("name", sorted(SHARED))
def test_shared_fixture_counts(shared, ingest_files, name):
    path, fmt = shared_file(shared, name)
    assert counts(ingest_files(path, fmt=fmt)[name]) == SHARED[name][2]


def test_every_shared_bluesky_file_is_covered(shared):
    present = {p.name for p in (shared / TWITWI).glob("bluesky-*")} | {p.name for p in (shared / ATPROTO).iterdir()}
    assert present == set(SHARED)


@pytest.mark.parametrize("name, reason", [
    ("custom_record.json", "record of custom type (app.bsky.feed.pythonSdkCustomRecordPost), not a post"),
    ("like_record.json", "like (app.bsky.feed.like), not a post"),
    ("extended_like_record.json", "like (app.bsky.feed.like), not a post"),
    ("feed_record.json", "feed generator (app.bsky.feed.generator), not a post"),
    ("did_doc.json", "DID document (identity), not a post"),
    ("resolve_handle.json", "handle resolution (a DID), not a post"),
    ("get_follows.json", "list of follows (app.bsky.graph.getFollows), not posts"),
    ("bluesky-profiles.json", "Bluesky profile, not a post"),
    ("bluesky-partial-profiles.json", "Bluesky profile, not a post"),
    ("bluesky-normalized-profiles.json", "Bluesky profile export (twitwi), not posts"),
    ("bluesky-profiles-export.csv", "Bluesky profile export (twitwi), not posts"),
])
def test_non_posts_are_rejected_with_their_reason(shared, ingest_files, con, name, reason):
    path, fmt = shared_file(shared, name)
    ingest_files(path, fmt=fmt)
    assert con.execute("SELECT DISTINCT reason FROM rejects").fetchall() == [(reason,)]


def test_twitwi_normalised_json_read_as_bluesky_says_how_to_read_it(shared, ingest_files, con):
    ingest_files(shared / TWITWI / "bluesky-normalized-tap-posts.json", fmt="bluesky")
    assert con.execute("SELECT DISTINCT reason FROM rejects").fetchall() == [
        ("twitwi-normalised post: ingest this file with --format csv (preset twitwi-bluesky)",)]


def test_bluesky_posts_json_reposts_and_replies(shared, ingest_files, con):
    path = shared / TWITWI / "bluesky-posts.json"
    ingest_files(path)
    kinds = dict(con.execute("SELECT kind, count(*) FROM posts GROUP BY kind").fetchall())
    # Items 50 and 51 share a URI but not a text; the longer copy (a quote) is kept.
    assert kinds == {"original": 80, "quote": 20, "reply": 17, "repost": 2}
    # 18 items are replies; one of them appears twice, so 17 reply posts are stored
    items = json.loads(path.read_text(encoding="utf-8"))
    views = [item.get("post", item) for item in items]
    reply_items = [v["uri"] for v in views if "reply" in v["record"]]
    assert len(reply_items) == 18
    stored = {u for (u,) in con.execute("SELECT post_id FROM posts WHERE kind = 'reply'").fetchall()}
    assert stored == set(reply_items)
    reposts = con.execute("SELECT post_id, author_handle, reposted_post_id, created_at::VARCHAR, like_count "
                          "FROM posts WHERE kind = 'repost' ORDER BY post_id").fetchall()
    by = "did:plc:5klvtukw5fucxsrkjldhrjxs"
    assert [(p, h, c, n) for p, h, _, c, n in reposts] == [
        (f"at://did:plc:aru6i7k6wo43msubk6km5td3/app.bsky.feed.post/3lloj4ipqqh27#repost:{by}",
         "yomguithereal.bsky.social", "2025-04-02 17:00:19.684+00", None),
        (f"at://did:plc:oklkinuievllgvhrv2nia4gu/app.bsky.feed.post/3llorpeiynx26#repost:{by}",
         "yomguithereal.bsky.social", "2025-03-31 19:12:11.153+00", None),
    ]
    assert all(p.startswith(o + "#repost:") for p, _, o, _, _ in reposts)
    # the originals a repost item includes are not stored (as for retweets)
    originals = [o for _, _, o, _, _ in reposts]
    assert con.execute("SELECT count(*) FROM posts WHERE list_contains(?, post_id)", [originals]).fetchone() == (0,)


def test_facet_byte_offsets_become_character_offsets(shared, ingest_files, con):
    path = shared / TWITWI / "bluesky-posts.json"
    # the file's facets: 155 select other text when their byte offsets are used as characters
    records = [item.get("post", item)["record"] for item in json.loads(path.read_text(encoding="utf-8"))]
    differ = sum(1 for r in records for f in r.get("facets", [])
                 if r["text"][slice(f["index"].get("byteStart", 0), f["index"].get("byteEnd", 0))]
                 != r["text"].encode()[slice(f["index"].get("byteStart", 0), f["index"].get("byteEnd", 0))]
                 .decode(errors="replace"))
    assert differ == 155
    ingest_files(path)
    assert_entities_select_their_text(con)
    # (entities, with a position): tags named nowhere in the text and links whose range is
    # broken and whose URL is not in the text keep no position
    stats = con.execute("SELECT kind, count(*), count(start_pos) FROM entities GROUP BY kind ORDER BY kind").fetchall()
    assert stats == [("hashtag", 99, 97), ("mention", 23, 23), ("url", 190, 96)]
    assert con.execute("SELECT count(*) FROM entities WHERE kind = 'mention' AND target_id NOT LIKE 'did:%'"
                       ).fetchone() == (0,)


def test_all_bluesky_entities_select_their_text(shared, ingest_files, con):
    ingest_files(*(shared / TWITWI / n for n in ("bluesky-firehose-posts.json", "bluesky-tap-posts.json",
                                                  "bluesky-hydrated-firehose-posts.json")),
                 *(OWN / n for n in ("author_feed.json", "jetstream.jsonl", "bare_record.json")))
    assert_entities_select_their_text(con)
    assert con.execute("SELECT count(*) FROM entities WHERE start_pos IS NOT NULL").fetchone()[0] > 30


@pytest.mark.parametrize("name", ["bluesky-normalized-posts.json", "bluesky-posts-export.csv"])
def test_twitwi_export_and_post_views_agree(shared, tmp_path, name):
    """The same posts through twitwi's export and through the post views.

    Accepted differences: twitwi's times are whole seconds; the mapping trims cells, so a
    text's leading and trailing spaces are gone, and twitwi's CSV writes a CRLF inside a text
    as LF (2 posts); twitwi keeps no conversation id for non-replies; twitwi
    counts an embedded list, feed generator or profile as a quote, and one post whose embed
    has the malformed $type "app.bsky.feed.post" (the app does not show it as a quote);
    a twitwi repost row is the original post (there is no repost id to map).
    """
    views = connect(tmp_path / "views.duckdb")
    ingest(views, [shared / TWITWI / "bluesky-posts.json"])
    export = connect(tmp_path / "export.duckdb")
    path, fmt = shared_file(shared, name)
    ingest(export, [path], fmt=fmt)
    cols = ("post_id, author_id, epoch(created_at), text, kind, in_reply_to_post_id, in_reply_to_author_id, "
            "quoted_post_id, conversation_id, reposted_post_id")
    a = {r[0]: r for r in views.execute(f"SELECT {cols} FROM posts").fetchall()}
    b = {r[0]: r for r in export.execute(f"SELECT {cols} FROM posts").fetchall()}
    reposts = {k: v for k, v in a.items() if v[4] == "repost"}
    assert set(a) - set(b) == set(reposts) and len(a) - len(reposts) == 117
    for v in reposts.values():  # twitwi's row for a repost is the original, by its author
        assert b[v[9]][4] == "original" and b[v[9]][1] == v[9].split("/")[2]
    quote_differs = set()
    for k in set(a) - set(reposts):
        x, y = a[k], b[k]
        assert x[1] == y[1]  # author
        assert (x[2] is None and y[2] is None) or abs(x[2] - y[2]) < 1  # created_at, to the second; 1 BC: none
        assert x[3].strip(" ").replace("\r\n", "\n") == y[3].replace("\r\n", "\n")  # text
        assert x[5:7] == y[5:7]  # reply links
        if x[5]:
            assert x[8] == y[8]  # conversation
        if x[7] != y[7]:
            quote_differs.add(k)
            assert x[7] is None and (y[7].split("/")[3] != "app.bsky.feed.post" or k.endswith("3lbca2nxy4f2a"))
        else:
            assert x[4] == y[4]  # kind
    assert len(quote_differs) == 4


def canonical(con) -> dict:
    """The snapshot, with each source's new/duplicate split summed: which of two files that
    share posts brought them first depends on their order, and reparse replays by sha256."""
    tables = snapshot(con)
    tables["sources"] = con.execute("SELECT * EXCLUDE (ingested, duplicates), ingested + duplicates "
                                    "FROM sources ORDER BY ALL").fetchall()
    return tables


def all_files(shared):
    files = [(shared_file(shared, n), n) for n in sorted(SHARED)]
    files += [((OWN / n, fmt), n) for n, (fmt, _) in sorted(OWN_COUNTS.items())]
    return files


@pytest.fixture(scope="module")
def all_ingested(tmp_path_factory):
    """A store holding every Bluesky file, shared and own, built once for the module (its
    tests copy it before they change it)."""
    from conftest import SHARED as shared

    if not shared.is_dir():
        pytest.skip(f"shared third-party fixtures not present at {shared} (only in the project workspace)")
    path = tmp_path_factory.mktemp("bluesky-all") / "all.duckdb"
    con = connect(path)
    for (file, fmt), _ in all_files(shared):
        ingest(con, [file], fmt=fmt)
    con.close()
    return path


def copy_of(store, tmp_path):
    shutil.copy(store, tmp_path / "copy.duckdb")
    return connect(tmp_path / "copy.duckdb")


def test_reingesting_changes_nothing(shared, all_ingested, tmp_path):
    con = copy_of(all_ingested, tmp_path)
    before = snapshot(con)
    for (path, fmt), name in all_files(shared):
        assert {Path(r.path).name: r for r in ingest(con, [path], fmt=fmt)}[name].skipped
    assert snapshot(con) == before
    con.close()


def test_a_reformatted_copy_brings_only_duplicates(shared, ingest_files, con, tmp_path):
    ingest_files(shared / TWITWI / "bluesky-posts.json", OWN / "thread.json")
    before = {t: con.execute(f"SELECT * EXCLUDE (source_sha256, record_no) FROM {t} ORDER BY ALL").fetchall()
              for t in ("posts", "authors")}
    before["entities"] = con.execute("SELECT * FROM entities ORDER BY ALL").fetchall()
    copy = tmp_path / "posts-reindented.json"
    copy.write_text(json.dumps(json.loads((shared / TWITWI / "bluesky-posts.json").read_text()), indent=2))
    assert counts(ingest_files(copy)[copy.name]) == (123, 0, 123, 0)
    after = {t: con.execute(f"SELECT * EXCLUDE (source_sha256, record_no) FROM {t} ORDER BY ALL").fetchall()
             for t in ("posts", "authors")}
    after["entities"] = con.execute("SELECT * FROM entities ORDER BY ALL").fetchall()
    assert after == before


def test_reparse_rebuilds_identical_tables(all_ingested, tmp_path):
    from flows.ingest.reparse import reparse

    con = copy_of(all_ingested, tmp_path)
    before = canonical(con)
    reparse(con)
    assert canonical(con) == before
    con.close()


def test_every_read_record_is_accounted_for(all_ingested):
    con = connect(all_ingested, read_only=True)
    for r in con.execute("SELECT name, records_read, ingested, duplicates, rejected FROM sources").fetchall():
        assert r[1] == sum(r[2:]), r
    assert con.execute("SELECT sum(ingested), sum(rejected) FROM sources").fetchone() == (
        con.execute("SELECT count(*) FROM posts").fetchone()[0],
        con.execute("SELECT count(*) FROM rejects").fetchone()[0])
    assert con.execute("SELECT count(*) FROM posts WHERE platform <> 'bluesky'").fetchone() == (0,)
    con.close()


# --- invented fixtures: the format stays covered without the shared files


@pytest.mark.parametrize("name", sorted(OWN_COUNTS))
def test_own_fixture_counts(ingest_files, name):
    fmt, expected = OWN_COUNTS[name]
    assert counts(ingest_files(OWN / name, fmt=fmt)[name]) == expected


def test_own_entities_select_their_text_in_accented_emoji_text(ingest_files, con):
    ingest_files(OWN / "author_feed.json")
    assert_entities_select_their_text(con)
    a1 = "at://did:plc:fixtureamelie0000000001/app.bsky.feed.post/3fixa1"
    got = con.execute("SELECT kind, value, normalized, start_pos, end_pos, target_id FROM entities "
                      "WHERE post_id = ? ORDER BY start_pos", [a1]).fetchall()
    assert got == [
        ("hashtag", "MedEd", "meded", 62, 68, None),
        ("hashtag", "santé", "santé", 69, 75, None),
        ("mention", "bruno.example.org", "bruno.example.org", 82, 100, "did:plc:fixturebruno00000000002"),
        # after "☕🩺", "é", "à", "É" and "👩‍⚕️" (4 code points, 13 bytes): character 118 is byte 137
        ("url", "exemple.org/accueil…", "https://exemple.org/accueil-internes-2025", 118, 138, None),
    ]
    record = json.loads((OWN / "author_feed.json").read_text(encoding="utf-8"))[0]["post"]["record"]
    assert [f["index"]["byteStart"] for f in record["facets"]] == [71, 78, 92, 137]


def test_a_shifted_facet_is_found_and_a_missing_tag_keeps_no_position(ingest_files, con):
    ingest_files(OWN / "author_feed.json")
    got = con.execute("SELECT kind, value, start_pos, end_pos FROM entities WHERE post_id LIKE '%3fixd8' "
                      "ORDER BY kind, value").fetchall()
    assert got == [("hashtag", "NuitBlanche", None, None), ("hashtag", "internat", 54, 63),
                   ("mention", "amelie.example.org", 21, 40)]


def test_a_mention_whose_range_leaves_out_the_at_sign_is_kept(ingest_files, con, shared):
    ingest_files(OWN / "facets_unread.json", shared / TWITWI / "bluesky-posts.json")
    got = con.execute("SELECT value, start_pos, end_pos, target_id FROM entities WHERE kind = 'mention' "
                      "AND (post_id LIKE '%3fixf1' OR value = 'edzard.bsky.social') ORDER BY value").fetchall()
    assert got == [("carla.example.org", 8, 26, "did:plc:fixturecarla000000000006"),
                   ("dan.example.org", 49, 65, "did:plc:fixturedan0000000000007"),
                   ("edzard.bsky.social", 108, 127, "did:plc:4bqqpeponxdqqy7bwyqfqomo")]  # a real one
    assert_entities_select_their_text(con)


def test_facet_features_that_are_not_entities_are_kept_as_written_and_counted(ingest_files, con, shared):
    report = ingest_files(OWN / "facets_unread.json")["facets_unread.json"]
    rows = con.execute("SELECT facet_no, feature_no, feature_type, start_pos, end_pos, feature::VARCHAR "
                       "FROM other_facets ORDER BY facet_no, feature_no").fetchall()
    assert [r[:3] for r in rows] == [
        (1, 1, "app.pollblue.poll.facet#question"), (2, 1, "app.pollblue.poll.facet#option"),
        (3, 1, "app.pollblue.poll.facet#option"), (3, 2, "app.bsky.richtext.facet#bold"), (5, 1, "FACETTAG")]
    text = con.execute("SELECT text FROM posts WHERE post_id LIKE '%3fixf2'").fetchone()[0]
    assert [text[s:e] for _, _, _, s, e, _ in rows] == ["Sondage 📊 : où réviser ?", "bibliothèque", "café", "café",
                                                         "#internat"]
    assert json.loads(rows[4][5]) == {"$type": "FACETTAG", "tag": "internat"}
    assert json.loads(rows[1][5])["number"] == 1
    assert report.other_facets == 5
    real = ingest_files(shared / TWITWI / "bluesky-posts.json")["bluesky-posts.json"]
    assert real.other_facets == 24 and con.execute("SELECT count(*) FROM other_facets WHERE feature_type = "
                                                   "'FACETTAG'").fetchone()[0] == 1 + 2


def test_feed_items_repost_quote_pin_and_embedded_feed(ingest_files, con):
    ingest_files(OWN / "author_feed.json")
    rows = {r[0].rsplit("/", 1)[1]: r[1:] for r in con.execute(
        "SELECT post_id, kind, author_id, quoted_post_id, reposted_post_id, in_reply_to_post_id, "
        "in_reply_to_author_id, conversation_id, like_count FROM posts").fetchall()}
    a1 = "at://did:plc:fixtureamelie0000000001/app.bsky.feed.post/3fixa1"
    chen = "did:plc:fixturechen000000000003"
    assert rows[f"3fixa1#repost:{chen}"] == ("repost", chen, None, a1, None, None, f"{a1}#repost:{chen}", None)
    assert rows["3fixa1"][0] == "original" and rows["3fixa1"][7] == 12
    assert rows["3fixb2"][:6] == ("reply", "did:plc:fixturebruno00000000002", None, None, a1,
                                  "did:plc:fixtureamelie0000000001")
    assert rows["3fixc3"][:3] == ("quote", chen, a1)
    assert rows["3fixc6"][0] == "quote" and rows["3fixc6"][2].endswith("/3fixb5")  # recordWithMedia
    assert rows["3fixb5"][0] == "original"  # a pinned post is not a repost
    assert rows["3fixc7"][:3] == ("original", chen, None)  # embeds a feed generator, not a post
    text = dict(con.execute("SELECT kind, text FROM posts WHERE post_id LIKE '%3fixa1%'").fetchall())
    assert text["repost"] == text["original"]
    assert con.execute("SELECT lang FROM posts WHERE post_id LIKE '%3fixc7'").fetchone() == ("fr",)  # first of langs


def test_authors_come_from_post_reposter_and_reply_context(ingest_files, con):
    ingest_files(OWN / "author_feed.json")
    authors = con.execute("SELECT author_id, handle, display_name, created_at::VARCHAR FROM authors "
                          "ORDER BY author_id").fetchall()
    assert authors == [
        ("did:plc:fixtureamelie0000000001", "amelie.example.org", "Amélie Rousseau 🩺", "2023-09-01 08:00:00+00"),
        ("did:plc:fixturebruno00000000002", "bruno.example.org", "Bruno Lefèvre", "2023-10-12 10:30:00+00"),
        ("did:plc:fixturechen000000000003", "chen.example.org", "Chen Wei 陈伟", "2024-01-05 16:45:00+00"),
        ("did:plc:fixturedana000000000004", "dana.example.org", "Dana", "2024-02-02 12:00:00+00"),
    ]


def test_thread_takes_every_post_in_order(ingest_files, con):
    ingest_files(OWN / "thread.json")
    rows = con.execute("SELECT item_no, split_part(post_id, '/', 5), kind, split_part(conversation_id, '/', 5) "
                       "FROM posts ORDER BY item_no").fetchall()
    assert rows == [(1, "3fixt2", "reply", "3fixt0"), (2, "3fixt1", "reply", "3fixt0"),
                    (3, "3fixt0", "original", "3fixt0"), (4, "3fixt3", "reply", "3fixt0"),
                    (5, "3fixt4", "reply", "3fixt0")]
    assert con.execute("SELECT item_no, reason FROM rejects ORDER BY item_no").fetchall() == [
        (6, "thread: post not found (deleted, or never existed)"),
        (7, "thread: post blocked (hidden from the account that collected it)")]


def test_jetstream_posts_and_the_rest_rejected(ingest_files, con):
    ingest_files(OWN / "jetstream.jsonl")
    posts = con.execute("SELECT post_id, author_id, author_handle, kind, created_at::VARCHAR, retrieved_at::VARCHAR "
                        "FROM posts ORDER BY post_id").fetchall()
    assert posts[0] == ("at://did:plc:fixtureamelie0000000001/app.bsky.feed.post/3fixj1",
                        "did:plc:fixtureamelie0000000001", None, "original", "2025-03-08 18:00:00+00",
                        "2025-03-08 18:00:00.123456+00")
    assert posts[1][3] == "reply"
    assert con.execute("SELECT record_no, item_no, reason FROM rejects ORDER BY record_no").fetchall() == [
        (3, 0, "firehose delete of a post (app.bsky.feed.post): "
               "at://did:plc:fixturedana000000000004/app.bsky.feed.post/3fixold was deleted"),
        (4, 0, "firehose create of a like (app.bsky.feed.like), not a post"),
        (5, 0, "firehose create of a follow (app.bsky.graph.follow), not a post"),
        (6, 0, "firehose identity event, not a post"),
        (7, 0, "malformed JSON (truncated or corrupt line)"),
    ]


def test_tap_events(ingest_files, con):
    ingest_files(OWN / "tap.jsonl")
    assert con.execute("SELECT post_id, kind FROM posts").fetchall() == [
        ("at://did:plc:fixturedana000000000004/app.bsky.feed.post/3fixtap1", "reply")]
    assert [r for (r,) in con.execute("SELECT reason FROM rejects ORDER BY record_no").fetchall()] == [
        "tap delete of a post (app.bsky.feed.post): at://did:plc:fixturedana000000000004/app.bsky.feed.post/3fixtap0"
        " was deleted",
        "tap identity event, not a post"]


def test_bare_record_id_is_stable_whatever_its_layout(ingest_files, con, tmp_path):
    ingest_files(OWN / "bare_record.json")
    (post_id, author), = con.execute("SELECT post_id, author_id FROM posts").fetchall()
    assert post_id.startswith("bsky-record:sha256:") and author is None
    copy = tmp_path / "bare_one_line.json"
    copy.write_text(json.dumps(json.loads((OWN / "bare_record.json").read_text(encoding="utf-8")),
                               ensure_ascii=False), encoding="utf-8")
    assert counts(ingest_files(copy)[copy.name]) == (1, 0, 1, 0)


def test_pages_and_list_records_unwrap(ingest_files, con):
    ingest_files(OWN / "feed_pages.jsonl", OWN / "list_records.json", fmt="bluesky")
    assert con.execute("SELECT reason FROM rejects").fetchall() == [("empty list or page: no posts",)]
    kinds = con.execute("SELECT split_part(post_id, '/', 5), kind, author_id FROM posts ORDER BY 1").fetchall()
    assert kinds == [("3fixa1", "original", "did:plc:fixtureamelie0000000001"),
                     ("3fixb2", "reply", "did:plc:fixturebruno00000000002"),
                     ("3fixl1", "original", "did:plc:fixturebruno00000000002"),
                     ("3fixl2", "quote", "did:plc:fixturebruno00000000002")]


def test_own_fixtures_reingest_and_reparse_change_nothing(ingest_files, con, tmp_path):
    from flows.ingest.reparse import reparse

    for name, (fmt, _) in sorted(OWN_COUNTS.items()):
        ingest_files(OWN / name, fmt=fmt)
    before = snapshot(con)
    copy = tmp_path / "thread-copy.json"
    shutil.copy(OWN / "thread.json", copy)
    assert ingest_files(copy)["thread-copy.json"].skipped
    assert snapshot(con) == before
    before = canonical(con)
    reparse(con)
    assert canonical(con) == before
