"""Twitter API v1.1 ingest: real v1.1 payloads (REST, search, stream) and one own fixture per edge case."""

from __future__ import annotations

import json

import pytest
from conftest import FIXTURES, assert_entities_select_their_text, counts

from flows.ingest.files import ingest
from flows.store.db import connect

PT = "python-twitter/testdata"
TWITWI = "twitwi/test/resources"
OWN = FIXTURES / "ingest" / "v1"

# (read, ingested, duplicates, rejected) for every file, each alone in a fresh store. Only a
# record's own tweets are posts; embedded retweeted/quoted statuses lend their text and users.
SHARED_COUNTS = {
    f"{PT}/3.2/extended_tweet_in_compat_mode.json": (1, 1, 0, 0),
    f"{PT}/3.2/extended_tweet_in_extended_mode.json": (1, 1, 0, 0),
    f"{PT}/get_home_timeline.json": (20, 20, 0, 0),
    f"{PT}/get_mentions.json": (19, 19, 0, 0),
    f"{PT}/get_retweets.json": (14, 14, 0, 0),
    f"{PT}/get_search_geocode.json": (15, 15, 0, 0),
    f"{PT}/get_search_raw.json": (100, 100, 0, 0),  # 189 tweet objects: 100 results, 89 embedded
    f"{PT}/get_status.json": (1, 1, 0, 0),
    f"{PT}/get_status_ext_alt.json": (1, 1, 0, 0),
    f"{PT}/get_status_promoted_video_tweet.json": (1, 1, 0, 0),
    f"{PT}/get_status_with_place.json": (1, 1, 0, 0),
    f"{PT}/get_statuses.1.json": (100, 100, 0, 0),
    f"{PT}/get_user_timeline.json": (20, 20, 0, 0),
    f"{PT}/models/models_status.json": (1, 1, 0, 0),
    f"{PT}/models/status_quoted_tweet.json": (1, 1, 0, 0),
    f"{PT}/models/status_quoted_tweet_with_media.json": (1, 1, 0, 0),
    f"{PT}/post_retweet.json": (1, 1, 0, 0),
    f"{PT}/streaming/lines.json": (72, 71, 1, 0),  # one tweet streamed twice
    f"{PT}/streaming/streaming_extended_tweet.json": (1, 1, 0, 0),
    f"{TWITWI}/normalization-payload-search.json": (1, 1, 0, 0),
    f"{TWITWI}/normalization-payload-show.json": (1, 1, 0, 0),
    f"{TWITWI}/normalization-payload-stream.json": (1, 1, 0, 0),
    "twitter-to-sqlite/tests/tweets.json": (3, 3, 0, 0),
}
OWN_COUNTS = {
    "long_compat_mode.json": (1, 1, 0, 0),
    "long_extended_mode.json": (1, 1, 0, 0),
    "stream_mixed.jsonl": (4, 4, 0, 0),
    "stream_control.jsonl": (7, 1, 0, 6),
    "stream_truncated.jsonl": (3, 2, 0, 1),
    "timeline_mixed_items.json": (5, 2, 0, 3),
    "search_empty.json": (1, 0, 0, 1),
    "id_precision.json": (1, 1, 0, 0),
    "withheld.json": (1, 1, 0, 0),
    "crosscheck_v1.json": (2, 2, 0, 0),
}


@pytest.mark.parametrize("path", sorted(SHARED_COUNTS))
def test_shared_v1_fixture_counts(shared, ingest_files, path):
    report = ingest_files(shared / path)[path.rsplit("/", 1)[-1]]
    assert (report.format, counts(report)) == ("v1", SHARED_COUNTS[path])


@pytest.mark.parametrize("name", sorted(OWN_COUNTS))
def test_own_v1_fixture_counts(ingest_files, name):
    report = ingest_files(OWN / name)[name]
    assert (report.format, counts(report)) == ("v1", OWN_COUNTS[name])


def test_search_page_kinds_and_every_user_object(shared, ingest_files, con):
    ingest_files(shared / PT / "get_search_raw.json")
    kinds = dict(con.execute("SELECT kind, count(*) FROM posts GROUP BY kind").fetchall())
    assert kinds == {"repost": 74, "quote": 9, "original": 16, "reply": 1}
    # 168 distinct users among the results, their retweeted and quoted statuses.
    assert con.execute("SELECT count(*) FROM authors").fetchone() == (168,)


def test_stream_lines_keep_the_full_text_of_extended_tweet(shared, ingest_files, con):
    lines = [json.loads(line) for line in (shared / PT / "streaming/lines.json").read_text().splitlines()]
    # 72 truncated tweets with extended_tweet, and 4 of their 8 quoted statuses have one too: 76.
    assert (len(lines), sum("extended_tweet" in t for t in lines)) == (72, 72)
    assert sum("extended_tweet" in t.get("quoted_status", {}) for t in lines) == 4
    ingest_files(shared / PT / "streaming/lines.json")
    texts = dict(con.execute("SELECT post_id, text FROM posts").fetchall())
    assert texts == {t["id_str"]: unescape(t["extended_tweet"]["full_text"]) for t in lines}


def test_compat_and_extended_mode_give_the_same_row(tmp_path):
    compat, extended = (canonical(tmp_path, OWN / n) for n in ("long_compat_mode.json", "long_extended_mode.json"))
    assert compat["posts"][0]["text"] == extended["posts"][0]["text"]
    for part in ("entities", "authors"):
        assert compat[part] == extended[part]
    # Reply and quote counts exist only in stream payloads.
    skip = ("reply_count", "quote_count")
    assert drop(compat["posts"][0], skip) == drop(extended["posts"][0], skip)


def test_rest_compat_mode_carries_only_the_truncated_text(shared, tmp_path):
    # python-twitter's pair is REST compatibility mode: `text` cut at 140, no extended_tweet.
    compat, extended = (canonical(tmp_path, shared / PT / f"3.2/extended_tweet_in_{m}_mode.json")["posts"][0]
                        for m in ("compat", "extended"))
    assert drop(compat, ("text",)) == drop(extended, ("text",))
    head, _, link = compat["text"].partition("\u2026 ")
    assert extended["text"].startswith(head) and link == "https://t.co/et3OTOxWSa"


def test_stream_full_text_of_a_quote_omits_the_quote_link(shared, tmp_path):
    # The same retweet collected by search (extended mode) and by the stream (compat mode):
    # the stream's extended_tweet leaves out the original's trailing quote link. Both are kept as sent.
    search, stream = (canonical(tmp_path, shared / TWITWI / f"normalization-payload-{m}.json")["posts"][0]["text"]
                      for m in ("search", "stream"))
    assert search == stream + " https://t.co/IAH0lxFIr3"


def test_full_text_matches_twitwi_normalization(shared, tmp_path, ingest_files, con):
    cases = json.loads((shared / TWITWI / "normalization.json").read_text())
    array = tmp_path / "twitwi_sources.json"
    array.write_text(json.dumps([case["source"] for case in cases]))
    assert counts(ingest_files(array, fmt="v1")["twitwi_sources.json"]) == (9, 8, 1, 0)
    # Cases 7 and 8 are one tweet, truncated then whole; the store keeps the later item (8).
    expected = {case["normalized"][-1]["id"]: case for case in cases}  # [-1]: the source tweet itself
    for post_id, case in expected.items():
        text, urls = post_text_and_urls(con, post_id)
        quoted = case["source"].get("quoted_status")
        if quoted is None:
            # twitwi writes each t.co link as its expanded URL; we keep the link, expanded in entities.
            assert expand(text, urls) == case["normalized"][-1]["text"], post_id
        else:
            # twitwi writes the quoted tweet into the text (« user: text — link ») in place of the
            # quote link; we keep the post's own words and point to the quote by quoted_post_id.
            at = next(s for s, _, u in urls if quoted["id_str"] in u)
            head = expand(text[:at], [u for u in urls if u[1] <= at])
            assert case["normalized"][-1]["text"].startswith(f"{head}« {quoted['user']['screen_name']}: ")


def test_id_str_wins_over_rounded_numbers(shared, ingest_files, con):
    ingest_files(shared / "twitter-to-sqlite/tests/tweets.json")  # "id": 1169246717864136700
    rows = con.execute("SELECT post_id, kind, in_reply_to_post_id, quoted_post_id FROM posts ORDER BY 1").fetchall()
    assert rows == [("1168529001599533057", "quote", None, "861696799362478085"),
                    ("1169196446043664385", "reply", "1169079390577319937", None),
                    ("1169246717864136705", "repost", None, None)]
    target = con.execute("SELECT target_id FROM entities WHERE value = 'observablehq'").fetchone()
    assert target == ("905255756789825536",)  # "id": 905255756789825500


def test_own_id_precision_fixture(ingest_files, con):
    ingest_files(OWN / "id_precision.json")
    row = con.execute("SELECT post_id, author_id, in_reply_to_post_id, in_reply_to_author_id FROM posts").fetchone()
    assert row == ("1500000000000000017", "1400000000000000002", "1500000000000000013", "1400000000000000003")


def test_stream_control_messages_are_rejected_with_reasons(ingest_files, con):
    ingest_files(OWN / "stream_control.jsonl")
    rejects = con.execute("SELECT record_no, item_no, reason FROM rejects ORDER BY record_no").fetchall()
    assert rejects == [(n, 0, "stream control message, not a post") for n in range(2, 8)]


def test_truncated_last_line_is_rejected(ingest_files, con):
    ingest_files(OWN / "stream_truncated.jsonl")
    assert con.execute("SELECT record_no, reason FROM rejects").fetchall() == [
        (3, "malformed JSON (truncated or corrupt line)")]


def test_empty_array_document_is_one_reject(ingest_files, con):
    # Auto-detection sends a bare `[]` to the v2 path; as v1 it is a timeline with no tweets.
    assert counts(ingest_files(OWN / "empty_array.json", fmt="v1")["empty_array.json"]) == (1, 0, 0, 1)
    assert con.execute("SELECT item_no, reason FROM rejects").fetchall() == [(0, "no posts: an empty list of tweets")]


def test_unknown_items_in_an_array_are_rejected_under_their_number(ingest_files, con):
    ingest_files(OWN / "timeline_mixed_items.json")
    assert con.execute("SELECT item_no, reason FROM rejects ORDER BY item_no").fetchall() == [
        (2, "not a post: a JSON number, not an object"), (3, "user profile, not a post"),
        (4, "stream control message, not a post")]
    assert con.execute("SELECT item_no FROM posts ORDER BY 1").fetchall() == [(1,), (5,)]


def test_api_errors_are_rejected_one_each(ingest_files, con):
    assert counts(ingest_files(OWN / "errors.json", fmt="v1")["errors.json"]) == (1, 0, 0, 1)
    assert con.execute("SELECT item_no, reason FROM rejects").fetchall() == [
        (1, "API error: 144: No status found with that ID.")]


def test_retweet_text_is_rebuilt_with_shifted_entities(ingest_files, con):
    ingest_files(OWN / "stream_mixed.jsonl")
    original, retweet = (post_text_and_urls(con, i)[0] for i in ("1500000000000000010", "1500000000000000011"))
    assert retweet == "RT @alice_md: " + original and "&amp;" not in retweet
    ents = "SELECT kind, value, start_pos, end_pos FROM entities WHERE post_id = ? ORDER BY start_pos, kind"
    shifted = [(k, v, s + 14, e + 14) for k, v, s, e in con.execute(ents, ["1500000000000000010"]).fetchall()]
    assert con.execute(ents, ["1500000000000000011"]).fetchall() == [("mention", "alice_md", 3, 12)] + shifted


def test_kinds_links_and_conversations(ingest_files, con):
    ingest_files(OWN / "stream_mixed.jsonl")
    rows = con.execute("SELECT post_id, kind, in_reply_to_post_id, quoted_post_id, reposted_post_id, conversation_id, "
                       "source, retrieved_at FROM posts ORDER BY post_id").fetchall()
    web = "Twitter Web App"
    assert rows == [
        ("1500000000000000010", "original", None, None, None, "1500000000000000010", web, None),
        ("1500000000000000011", "repost", None, None, "1500000000000000010", "1500000000000000011", web, None),
        # v1 has no conversation id and a reply's thread root is not in the payload: unknown, not guessed.
        ("1500000000000000012", "reply", "1500000000000000010", None, None, None, web, None),
        ("1500000000000000013", "quote", None, "1500000000000000010", None, "1500000000000000013", web, None)]


def test_withheld_countries_are_written_as_v2_writes_them(ingest_files, con):
    ingest_files(OWN / "withheld.json")
    assert con.execute("SELECT withheld FROM posts").fetchone() == ("tweet:DE,FR",)


def test_authors_come_from_every_user_object(shared, ingest_files, con):
    ingest_files(shared / PT / "post_retweet.json")  # the retweeter and the retweeted
    rows = con.execute("SELECT author_id, handle, followers_count, following_count, post_count, "
                       "created_at IS NOT NULL, starts_with(profile_image_url, 'https://') "
                       "FROM authors ORDER BY handle").fetchall()
    assert rows == [("372018022", "__jcbl__", 191, 496, 4022, True, True),
                    ("31653264", "xodanix3", 16972, 4745, 179418, True, True)]


def test_entities_select_their_text_in_every_shared_fixture(shared, ingest_files, con):
    ingest_files(*(shared / p for p in SHARED_COUNTS))
    # One entity is left out: tweets.json's hand-edited media of another tweet (not in the text).
    assert con.execute("SELECT count(*) FROM entities").fetchone() == (751,)
    assert_entities_select_their_text(con)


def test_entities_select_their_text_in_every_own_fixture(ingest_files, con):
    ingest_files(*(OWN / n for n in OWN_COUNTS))
    assert con.execute("SELECT count(*) FROM entities").fetchone() == (30,)
    assert_entities_select_their_text(con)


def test_v1_and_v2_give_the_same_canonical_rows(tmp_path):
    v1, v2 = (canonical(tmp_path, OWN / f"crosscheck_{v}.json") for v in ("v1", "v2"))
    assert [p["kind"] for p in v1["posts"]] == ["reply", "repost"]
    # Not in v1: impression, reply and quote counts (REST), a reply's conversation root.
    skip = ("impression_count", "reply_count", "quote_count", "conversation_id")
    assert [drop(p, skip) for p in v1["posts"]] == [drop(p, skip) for p in v2["posts"]]
    assert v1["posts"][1]["conversation_id"] == v2["posts"][1]["conversation_id"] == "1500000000000000021"
    assert v1["posts"][0]["conversation_id"] is None
    assert v1["entities"] == v2["entities"] and v1["authors"] == v2["authors"]


def canonical(tmp_path, path) -> dict:
    """Posts (as dicts), entities and authors of one file in a fresh store, without provenance."""
    con = connect(tmp_path / f"{path.parent.name}-{path.name}.duckdb")
    ingest(con, [path])
    cur = con.execute("SELECT * EXCLUDE (source_sha256, record_no, item_no, parser_version) "
                      "FROM posts ORDER BY post_id")
    names = [d[0] for d in cur.description]
    out = {"posts": [dict(zip(names, row)) for row in cur.fetchall()],
           "entities": con.execute("SELECT * FROM entities ORDER BY ALL").fetchall(),
           "authors": con.execute("SELECT * EXCLUDE (source_sha256, record_no) FROM authors ORDER BY ALL").fetchall()}
    con.close()
    return out


def drop(row: dict, keys) -> dict:
    return {k: v for k, v in row.items() if k not in keys}


def unescape(text: str) -> str:
    """Twitter escapes only &, < and >."""
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def post_text_and_urls(con, post_id: str) -> tuple[str, list[tuple[int, int, str]]]:
    text = con.execute("SELECT text FROM posts WHERE post_id = ?", [post_id]).fetchone()[0]
    urls = con.execute("SELECT start_pos, end_pos, normalized FROM entities WHERE post_id = ? AND kind = 'url' "
                       "ORDER BY start_pos", [post_id]).fetchall()
    return text, urls


def expand(text: str, urls: list[tuple[int, int, str]]) -> str:
    """The text with each URL entity replaced by its expanded URL (twitwi's rendering)."""
    for start, end, url in sorted(set(urls), reverse=True):
        text = text[:start] + url + text[end:]
    return text


def test_jsonl_of_timeline_arrays(ingest_files, con, tmp_path):
    lines = [json.dumps(json.loads((OWN / "crosscheck_v1.json").read_text()))] * 2
    (tmp_path / "timelines.jsonl").write_text("\n".join(lines) + "\n")
    report = ingest_files(tmp_path / "timelines.jsonl")["timelines.jsonl"]
    assert report.format == "v1" and counts(report) == (4, 2, 2, 0)
