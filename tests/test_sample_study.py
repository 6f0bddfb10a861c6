"""Tests of the deterministic #MedTwitter sample-study generator (flows.sample.generate)."""

from __future__ import annotations

import json
import re
from collections import defaultdict
from datetime import datetime

import pytest

from flows.sample.generate import generate

CHRETIEN = {"information", "collaboration", "perspectives", "community", "advocacy",
            "digital_footprint", "equalization"}
MENTORING = {"mentorship", "coaching", "sponsorship", "advice_seeking", "reassurance",
             "resource_sharing", "burnout_work_life"}
ROLES = {"student", "resident", "faculty", "health_professional", "organization", "other"}
TWITTER_EPOCH_MS = 1288834974657


def _load(manifest: dict) -> tuple[list[dict], dict]:
    with open(manifest["corpus"], encoding="utf-8") as f:
        pages = [json.loads(line) for line in f]
    with open(manifest["truth"], encoding="utf-8") as f:
        return pages, json.load(f)


@pytest.fixture(scope="module")
def study(tmp_path_factory):
    """The default study, generated once: (manifest, pages, truth, tweets by id)."""
    manifest = generate(tmp_path_factory.mktemp("study"))
    pages, truth = _load(manifest)
    tweets = {t["id"]: t for page in pages for t in page["data"]}
    return manifest, pages, truth, tweets


def _ref(tweet: dict, kind: str) -> str | None:
    return next((r["id"] for r in tweet.get("referenced_tweets", []) if r["type"] == kind), None)


def _full_text(tweet: dict) -> str:
    return tweet.get("note_tweet", {}).get("text", tweet["text"])


def test_same_seed_gives_byte_identical_files(tmp_path):
    a = generate(tmp_path / "a", seed=7, tweets=1500, accounts=30, months=4)
    b = generate(tmp_path / "b", seed=7, tweets=1500, accounts=30, months=4)
    for key in ("corpus", "truth"):
        with open(a[key], "rb") as fa, open(b[key], "rb") as fb:
            assert fa.read() == fb.read()


def test_default_run_is_deterministic(tmp_path, study):
    again = generate(tmp_path / "again")
    for key in ("corpus", "truth"):
        with open(again[key], "rb") as fa, open(study[0][key], "rb") as fb:
            assert fa.read() == fb.read()


def test_another_seed_gives_another_corpus(tmp_path):
    a = generate(tmp_path / "a", seed=1, tweets=800, months=3)
    b = generate(tmp_path / "b", seed=2, tweets=800, months=3)
    assert (a["tweets"], a["accounts"]) == (b["tweets"], b["accounts"])
    with open(a["corpus"], "rb") as fa, open(b["corpus"], "rb") as fb:
        assert fa.read() != fb.read()


def test_files_use_newlines_and_unescaped_unicode(study):
    with open(study[0]["corpus"], "rb") as f:
        raw = f.read()
    assert b"\r\n" not in raw and raw.endswith(b"\n")
    assert "…".encode() in raw and b"\\u2026" not in raw


@pytest.mark.parametrize("kwargs", [{}, {"tweets": 1500, "accounts": 25, "months": 4},
                                    {"tweets": 3000, "accounts": 55, "start": "2015-01-15"}])
def test_counts_within_ten_percent_of_request(tmp_path, kwargs):
    manifest = generate(tmp_path, **kwargs)
    pages, truth = _load(manifest)
    want_tweets, want_accounts = kwargs.get("tweets", 6000), kwargs.get("accounts", 40)
    n_tweets = sum(len(p["data"]) for p in pages)
    assert abs(n_tweets - want_tweets) <= 0.1 * want_tweets
    assert abs(len(truth["accounts"]) - want_accounts) <= 0.1 * want_accounts
    assert manifest["tweets"] == n_tweets and manifest["accounts"] == len(truth["accounts"])
    assert manifest["seed"] == 2015


def test_every_line_is_a_twarc2_search_page(study):
    _, pages, truth, _ = study
    window_end = datetime.fromisoformat(truth["window"][1].replace("Z", "+00:00"))
    previous_oldest = None
    for i, page in enumerate(pages):
        assert list(page) == ["data", "includes", "meta", "__twarc"]
        assert 0 < len(page["data"]) <= 100 and page["meta"]["result_count"] == len(page["data"])
        ids = [int(t["id"]) for t in page["data"]]
        assert ids == sorted(ids, reverse=True)  # newest first, like the search API
        assert page["meta"]["newest_id"] == str(ids[0])
        assert page["meta"]["oldest_id"] == str(ids[-1])
        assert previous_oldest is None or ids[0] < previous_oldest
        previous_oldest = ids[-1]
        assert ("next_token" in page["meta"]) == (i < len(pages) - 1)
        twarc = page["__twarc"]
        assert twarc["url"].startswith("https://api.twitter.com/2/tweets/search/all?")
        assert twarc["version"] == "2.0.3" and twarc["retrieved_at"].endswith("+00:00")
        assert datetime.fromisoformat(twarc["retrieved_at"]) > window_end


def test_tweet_fields_have_api_v2_shapes(study):
    _, pages, truth, tweets = study
    start, end = truth["window"]
    for t in tweets.values():
        assert {"id", "text", "author_id", "created_at", "conversation_id", "lang",
                "public_metrics", "source", "reply_settings", "possibly_sensitive"} <= set(t)
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.000Z", t["created_at"])
        assert start <= t["created_at"] < end
        assert t["id"].isdigit() and t["lang"] in ("en", "es")
        assert set(t["public_metrics"]) == {"retweet_count", "reply_count", "like_count",
                                            "quote_count"}
        ms = (int(t["id"]) >> 22) + TWITTER_EPOCH_MS  # snowflake: the id encodes the time
        created = datetime.fromisoformat(t["created_at"].replace("Z", "+00:00"))
        assert 0 <= ms - int(created.timestamp()) * 1000 < 1000
    users = [u for page in pages for u in page["includes"]["users"]]
    for u in users:
        assert {"id", "username", "name", "description", "created_at", "public_metrics", "verified",
                "protected", "location", "url"} <= set(u)
        assert set(u["public_metrics"]) == {"followers_count", "following_count", "tweet_count",
                                            "listed_count"}


def test_field_names_all_occur_in_real_twarc_output(study, shared):
    real_tweet, real_user = set(), set()
    for name in ("noflat.jsonl", "2sets.jsonl", "mentions_tweet.jsonl"):
        with open(shared / "twarc-csv" / "test-data" / name, encoding="utf-8") as f:
            for line in f:
                page = json.loads(line)
                data = page["data"] if isinstance(page["data"], list) else [page["data"]]
                for t in data + page["includes"].get("tweets", []):
                    real_tweet |= set(t)
                for u in page["includes"].get("users", []):
                    real_user |= set(u)
    _, pages, _, tweets = study
    ours_tweet = {k for t in tweets.values() for k in t}
    ours_user = {k for page in pages for u in page["includes"]["users"] for k in u}
    assert ours_tweet - real_tweet == {"note_tweet"}  # long posts; absent from those 2021 files
    assert ours_user <= real_user


def test_retweets_are_cut_and_carry_their_original(study):
    _, pages, _, _ = study
    n = 0
    for page in pages:
        included = {t["id"]: t for t in page["includes"]["tweets"]}
        users = {u["id"]: u for u in page["includes"]["users"]}
        for t in page["data"]:
            original_id = _ref(t, "retweeted")
            if original_id is None:
                continue
            n += 1
            original = included[original_id]
            prefix = f"RT @{users[original['author_id']]['username']}: "
            assert t["text"].startswith(prefix) and len(t["text"]) <= 140
            body = t["text"][len(prefix):]
            full = _full_text(original)
            if len(prefix) + len(full) > 140:
                assert body.endswith("…") and full.startswith(body[:-1])
            else:
                assert body == full
            assert t["conversation_id"] == t["id"]
    assert 0.15 * len(pages) * 100 < n < 0.25 * len(pages) * 100


def test_quotes_end_with_the_link_of_the_quoted_tweet(study):
    _, pages, _, tweets = study
    quotes = 0
    for page in pages:
        included = {t["id"] for t in page["includes"]["tweets"]}
        for t in page["data"]:
            quoted = _ref(t, "quoted")
            if quoted is None:
                continue
            quotes += 1
            assert quoted in included
            last = t["entities"]["urls"][-1]
            assert last["end"] == len(t["text"])
            assert last["expanded_url"].endswith(f"/status/{quoted}")
    assert 0.03 * len(tweets) < quotes < 0.08 * len(tweets)


def _check_entities(text: str, entities: dict) -> int:
    checked = 0
    for tag in entities.get("hashtags", []):
        assert text[tag["start"]:tag["end"]] == "#" + tag["tag"]
        checked += 1
    for mention in entities.get("mentions", []):
        assert text[mention["start"]:mention["end"]] == "@" + mention["username"]
        checked += 1
    for url in entities.get("urls", []):
        assert text[url["start"]:url["end"]] == url["url"]
        assert url["url"].startswith("https://t.co/") and url["expanded_url"].startswith("https://")
        checked += 1
    return checked


def test_entity_offsets_select_their_text_in_code_points(study):
    _, pages, _, _ = study
    checked, astral = 0, 0
    for page in pages:
        for t in page["data"] + page["includes"]["tweets"]:
            checked += _check_entities(t["text"], t.get("entities", {}))
            if "note_tweet" in t:
                note = t["note_tweet"]
                checked += _check_entities(note["text"], note.get("entities", {}))
            astral += any(ord(c) > 0xFFFF for c in t["text"]) and bool(t.get("entities"))
        for u in page["includes"]["users"]:
            ents = u.get("entities", {})
            checked += _check_entities(u["description"], ents.get("description", {}))
            checked += _check_entities(u["url"], ents.get("url", {}))
    assert checked > 5000 and astral > 10  # emoji before entities: UTF-16 offsets would differ


def test_includes_hold_every_referenced_tweet_and_user(study):
    _, pages, _, _ = study
    for page in pages:
        included = {t["id"] for t in page["includes"]["tweets"]}
        users = {u["id"] for u in page["includes"]["users"]}
        for t in page["data"]:
            for ref in t.get("referenced_tweets", []):
                assert ref["id"] in included
            assert t["author_id"] in users
            assert t.get("in_reply_to_user_id", t["author_id"]) in users
            for mention in t.get("entities", {}).get("mentions", []):
                assert mention["id"] in users
        for t in page["includes"]["tweets"]:
            assert t["author_id"] in users


def test_replies_keep_conversation_and_reply_to_user(study):
    _, _, _, tweets = study
    replies = 0
    for t in tweets.values():
        parent_id = _ref(t, "replied_to")
        if parent_id is None:
            assert "in_reply_to_user_id" not in t
            continue
        replies += 1
        parent = tweets[parent_id]
        assert t["in_reply_to_user_id"] == parent["author_id"]
        assert t["conversation_id"] == parent["conversation_id"]
        assert int(t["id"]) > int(parent_id)
    assert replies > 0.2 * len(tweets)


def test_long_posts_carry_note_tweet(study):
    _, _, _, tweets = study
    longs = [t for t in tweets.values() if "note_tweet" in t]
    assert 0.015 * len(tweets) < len(longs) < 0.05 * len(tweets)
    for t in longs:
        full = t["note_tweet"]["text"]
        assert len(full) > 280 and len(t["text"]) <= 280
        assert t["text"].endswith("…") and full.startswith(t["text"][:-1])


def test_some_posts_are_in_spanish(study):
    _, _, truth, tweets = study
    spanish = sum(t["lang"] == "es" for t in tweets.values())
    assert 0.01 * len(tweets) < spanish < 0.04 * len(tweets)


def test_roles_and_superusers(study):
    _, _, truth, tweets = study
    roles = [a["role"] for a in truth["accounts"]]
    assert set(roles) <= ROLES and {"student", "resident", "faculty", "organization"} <= set(roles)
    assert roles.count("student") > roles.count("faculty") > 0
    superusers = [a for a in truth["accounts"] if a["superuser"]]
    assert 20 <= len(superusers) <= 31
    assert {a["role"] for a in superusers} <= {"student", "resident"}
    posts = defaultdict(int)
    for t in tweets.values():
        posts[t["author_id"]] += 1
    least_super = min(posts[a["id"]] for a in superusers)
    assert least_super >= round(0.5 * len(tweets) / len(truth["accounts"]))


def test_mentorship_pairs_reply_both_ways_in_three_months(study):
    _, _, truth, tweets = study
    handle_of = {a["id"]: a["handle"] for a in truth["accounts"]}
    months = defaultdict(set)  # (replier, replied-to) -> months
    for t in tweets.values():
        if _ref(t, "replied_to"):
            pair = handle_of[t["author_id"]], handle_of[t["in_reply_to_user_id"]]
            months[pair].add(t["created_at"][:7])
    assert 6 <= len(truth["mentorship_pairs"]) <= 10
    roles = {a["handle"]: a["role"] for a in truth["accounts"]}
    for pair in truth["mentorship_pairs"]:
        mentor, mentee = pair["mentor"], pair["mentee"]
        assert roles[mentor] in ("faculty", "resident") and roles[mentee] == "student"
        assert len(months[mentor, mentee]) >= 3 and len(months[mentee, mentor]) >= 3
        assert len(months[mentor, mentee] & months[mentee, mentor]) >= 3


def test_sponsorship_events_amplify_the_trainees_work(study):
    _, _, truth, tweets = study
    handle_of = {a["id"]: a["handle"] for a in truth["accounts"]}
    assert len(truth["sponsorship_events"]) >= 6
    for event in truth["sponsorship_events"]:
        post, work = tweets[event["post_id"]], tweets[event["work_post_id"]]
        assert handle_of[post["author_id"]] == event["sponsor"]
        assert handle_of[work["author_id"]] == event["trainee"]
        assert event["work_post_id"] in (_ref(post, "retweeted"), _ref(post, "quoted"))


def test_chats_have_questions_and_answers_inside_their_hour(study):
    _, _, truth, tweets = study
    handle_of = {a["id"]: a["handle"] for a in truth["accounts"]}
    assert 30 <= len(truth["chats"]) <= 36
    for chat in truth["chats"]:
        assert chat["hashtag"] == "MedEdChat" and 4 <= len(chat["participants"]) <= 12
        inside = [t for t in tweets.values() if chat["start"] <= t["created_at"] < chat["end"]]
        questions = [tweets[i] for i in chat["question_post_ids"]]
        assert [q["text"][:3] for q in questions] == ["Q1:", "Q2:", "Q3:"]
        assert all(q in inside and handle_of[q["author_id"]] == chat["host"] for q in questions)
        answers = [t for t in inside if re.search(r"(^|\s)A[123]: ", t["text"])
                   and "#MedEdChat" in t["text"] and not t["text"].startswith("RT @")]
        assert {handle_of[t["author_id"]] for t in answers} <= set(chat["participants"])
        assert len({handle_of[t["author_id"]] for t in answers}) >= 3


def test_codes_are_known_and_only_on_own_posts(study):
    _, _, truth, tweets = study
    codes = truth["codes"]
    own = {i for i, t in tweets.items() if not _ref(t, "retweeted")}
    assert set(codes) == own  # every original, reply and quote; never a retweet
    for entry in codes.values():
        assert set(entry) == {"chretien2015", "mentorship_medtwitter", "micromentorship"}
        assert set(entry["chretien2015"]) <= CHRETIEN
        assert set(entry["mentorship_medtwitter"]) <= {"mentorship", "coaching", "sponsorship"}
        assert set(entry["micromentorship"]) <= MENTORING - {"mentorship", "coaching", "sponsorship"}
    uncoded = sum(not any(e.values()) for e in codes.values())
    assert 0.2 < uncoded / len(codes) < 0.4
    assert sum(len(e["chretien2015"]) == 2 for e in codes.values()) > 50
    used = {c for e in codes.values() for codes_ in e.values() for c in codes_}
    assert used == CHRETIEN | MENTORING


def test_bad_arguments_are_refused(tmp_path):
    with pytest.raises(ValueError):
        generate(tmp_path, accounts=3)
    with pytest.raises(ValueError):
        generate(tmp_path, tweets=100)
    with pytest.raises(ValueError):
        generate(tmp_path, start="2009-01-01")
