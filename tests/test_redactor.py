"""The one redaction layer: names written bare, display names, ids, keywords, labels and reasons."""

from __future__ import annotations

import pytest
from conftest import FIXTURES

from flows.privacy.names import store_names
from flows.privacy.redactor import Redactor

SECRET = b"redactor-test-secret"
FORMS = FIXTURES / "privacy" / "mention_forms.jsonl"


@pytest.fixture
def redactor(con, ingest_files):
    ingest_files(FORMS, FIXTURES / "ingest" / "cross" / "page.jsonl")
    return Redactor.for_store(con, secret=SECRET)


def test_a_handle_written_bare_or_in_any_mention_form_becomes_its_pseudonym(redactor):
    rosalind = redactor.author("4100000001")
    for written in ("ResidentRosalind", "@residentrosalind:", ".@ResidentRosalind", "RT@ResidentRosalind",
                    "＠ResidentRosalind", "#ResidentRosalind",
                    "twitter.com/ResidentRosalind/status/5100000000000000001"):
        out = redactor.text(f"with {written} today")
        assert "rosalind" not in out.lower() and rosalind in out and "5100000000000000001" not in out, written
    assert redactor.text("hemeonctrainee did well") == f"{redactor.author('4100000002')} did well"


def test_a_display_name_in_prose_becomes_the_pseudonym_of_its_account(redactor):
    out = redactor.text("Proud of Rosalind Okafor-Smith and ROSALIND  okafor smith, not of Rosalind alone")
    assert out.count(redactor.author("4100000001")) == 2 and out.endswith("not of Rosalind alone")
    assert redactor.name("Rosalind Okafor-Smith") is None and Redactor.off().name("Ana") == "Ana"


def test_a_numeric_user_id_in_text_is_replaced_a_short_number_is_not(redactor):
    assert redactor.text("account 4100000003 wrote 12 posts") == \
        f"account {redactor.author('4100000003')} wrote 12 posts"


def test_ordinary_words_of_the_corpus_stay_even_when_someone_is_called_that(con, ingest_files):
    from flows.privacy.names import ordinary_words

    ingest_files(FIXTURES / "ingest" / "cross" / "page.jsonl")
    words = ordinary_words(con, {"feedback": {"@feedback"}, "thread": {"1001", "1002"}})
    assert words == set()  # the page's three posts are by two accounts only: nothing is ordinary yet
    for n in range(3):
        con.execute("INSERT INTO posts SELECT * REPLACE ('9' || ? AS post_id, 'x' || ? AS author_id, "
                    "'what feedback helped you?' AS text, 'original' AS kind) FROM posts LIMIT 1", [str(n), str(n)])
    assert ordinary_words(con, {"feedback": {"@feedback"}, "helped": {"x0"}}) == {"feedback"}


def test_distinctive_and_studied_names_are_never_ordinary(con, ingest_files):
    ingest_files(FORMS)
    names = store_names(con)
    assert names.in_prose("residentrosalind") == "4100000001" and "residentrosalind" not in names.ordinary


def test_keywords_and_labels_lose_names_and_pseudonyms(redactor):
    keywords = ["feedback", "hemeonctrainee", "user_0123456789abcdef", "@someone", "residentrosalind", "growth"]
    assert redactor.words(keywords) == ["feedback", "growth"]
    assert redactor.topic_label(3, "feedback, hemeonctrainee, user_0123456789abcdef", keywords) == "feedback, growth"
    assert redactor.topic_label(4, "hemeonctrainee, residentrosalind", ["hemeonctrainee", "residentrosalind"]) \
        == "topic 4"
    assert redactor.topic_label(5, "Mentoring by ResidentRosalind", keywords) == \
        f"Mentoring by {redactor.author('4100000001')}"
    assert Redactor.off().words(keywords) == keywords
    assert redactor.words(["case", "tobias", "quennell", "tobias2"]) == ["case", "tobias2"]  # together, a name
    assert redactor.words(["case", "quennell"]) == ["case", "quennell"]  # alone, a word
    assert redactor.words(["case", "tobias quennell", "ward round"]) == ["case", "ward round"]  # a phrase keyword


def test_reject_reasons_lose_the_accounts_and_posts_they_name(redactor):
    out = redactor.reason("API error: Forbidden: User has been suspended: [leeseunggi].")
    assert "leeseunggi" not in out and "[user_" in out
    out = redactor.reason("Could not find tweet with referenced_tweets.id: [506694458445152256].")
    assert "506694458445152256" not in out and "[post_" in out


def test_bluesky_post_ids_never_show_the_did(con, ingest_files):
    ingest_files(FIXTURES / "ingest" / "bluesky" / "thread.json")
    r = Redactor.for_store(con, secret=SECRET)
    for platform, post_id, text in con.execute("SELECT platform, post_id, text FROM posts").fetchall():
        assert post_id.startswith("at://did:") and r.post(platform, post_id).startswith("post_")
        assert "did:" not in (r.text(post_id + " " + (text or "")) or "")


def test_quotes_are_masked_on_request_and_cut(redactor):
    r = Redactor.off(mask_quotes=True)
    assert r.quote("ask @DrMaya at https://x.example/a now") == "ask @user at [link] now"
    assert len(r.quote("word " * 200)) == 500 and r.byline("DrMaya", "student") == "student"


def test_the_redactor_never_shows_the_secret(redactor):
    assert SECRET.decode() not in repr(redactor) and SECRET.decode() not in repr(vars(redactor))
