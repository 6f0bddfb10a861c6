"""Tweet chats: hashtag, Q1/A1 questions and answers, time window; hosts and participants."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fixtures.network.build import Corpus

from flows.ingest.files import ingest
from flows.people.chats import ChatRules, chats_per_account, detect_chats


def chat_corpus() -> tuple[Corpus, dict]:
    """One real chat (#TestChat, Feb 4) and three that are not: one question only (Feb 11),
    no answers (Feb 18), and questions 50 minutes apart (Feb 25, a chat only with a longer gap)."""
    c, ids = Corpus(), {}
    c.user("SocExample", "Society for Example Education. Host of #TestChat, Tuesdays 9pm ET")
    for handle, bio in {"stu1": "MS2", "stu2": "MS4", "res": "PGY-1", "fac": "Professor of Surgery",
                        "jour": "Official account of the Journal of Examples"}.items():
        c.user(handle, bio)
    c.post("SocExample", "Welcome to #TestChat! Q1 in 5 minutes", "2015-02-04T02:00")
    ids["q1"] = c.post("SocExample", "Q1: How did you find a mentor? #TestChat", "2015-02-04T02:05")
    c.post("fac", "", "2015-02-04T02:10", repost=ids["q1"])  # a repost takes no part
    a1 = c.post("stu1", "@SocExample A1: a cold email #TestChat", "2015-02-04T02:08", reply_to=ids["q1"])
    c.post("SocExample", "Q2. What should students bring? #TestChat", "2015-02-04T02:15")
    c.post("stu2", "A2: one question and one goal #TestChat", "2015-02-04T02:18")
    c.post("res", "@stu1 Agree!", "2015-02-04T02:20", reply_to=a1)  # no hashtag, but answers the chat
    c.post("SocExample", "Q3) How do you judge #FOAMed? #TestChat", "2015-02-04T02:25")
    c.post("jour", "Join our community at #TestChat next week", "2015-02-04T02:30")  # a bystander
    c.post("SocExample", "Thanks for a great #TestChat, everyone!", "2015-02-04T02:55")
    c.post("stu1", "A3: a late answer #TestChat", "2015-02-04T04:30")  # after the window
    c.post("SocExample", "Q1: only one question tonight #TestChat", "2015-02-11T02:05")
    c.post("stu1", "A1: still counts? #TestChat", "2015-02-11T02:10")
    c.post("stu2", "Q1 earnings beat expectations #TestChat", "2015-02-11T02:20")  # not a question
    c.post("SocExample", "Q1: anyone here? #OtherChat", "2015-02-18T02:05")
    c.post("SocExample", "Q2: hello? #OtherChat", "2015-02-18T02:15")
    c.post("SocExample", "Q1: first #GapChat", "2015-02-25T02:00")
    c.post("stu2", "A1: here #GapChat", "2015-02-25T02:05")
    c.post("SocExample", "Q2: second, after a long pause #GapChat", "2015-02-25T02:50")
    return c, ids


@pytest.fixture
def chat_con(con, tmp_path):
    corpus, ids = chat_corpus()
    ingest(con, [corpus.write(tmp_path / "chats.jsonl")])
    return con, ids


def test_a_chat_with_its_host_participants_and_window(chat_con):
    con, ids = chat_con
    chats = detect_chats(con)
    assert len(chats) == 1
    chat = chats[0]
    assert {k: chat[k] for k in ("chat_id", "hashtag", "host", "questions", "answers", "posts", "started_at",
                                 "ended_at", "hosts", "participants")} == {
        "chat_id": f"testchat:{ids['q1']}", "hashtag": "testchat", "host": "SocExample", "questions": 3,
        "answers": 2, "posts": 9, "started_at": "2015-02-04T02:00:00Z", "ended_at": "2015-02-04T02:55:00Z",
        "hosts": ["SocExample"], "participants": ["res", "stu1", "stu2"]}
    window = con.execute("SELECT strftime(window_start, '%H:%M'), strftime(window_end, '%H:%M') FROM chats").fetchone()
    assert window == ("01:35", "03:25")  # 30 minutes before Q1, an hour after Q3


def test_participation_per_account(chat_con):
    con, _ = chat_con
    detect_chats(con)
    rows = con.execute("""SELECT a.handle, is_host, is_participant, posts, answers, replies
                          FROM chat_participation p JOIN accounts_v a USING (platform, author_id)
                          ORDER BY a.handle""").fetchall()
    assert rows == [("SocExample", True, False, 5, 0, 0), ("jour", False, False, 1, 0, 0),
                    ("res", False, True, 1, 0, 1), ("stu1", False, True, 1, 1, 1), ("stu2", False, True, 1, 1, 0)]
    per_account = {h: n for (p, a), n in chats_per_account(con).items()
                   for h, in con.execute("SELECT handle FROM accounts_v WHERE author_id = ?", [a]).fetchall()}
    assert per_account == {"SocExample": 1, "res": 1, "stu1": 1, "stu2": 1}


def test_a_longer_gap_joins_questions_into_one_chat(chat_con):
    con, _ = chat_con
    chats = detect_chats(con, ChatRules(max_gap_minutes=60))
    assert [(c["hashtag"], c["questions"], c["participants"]) for c in chats] == [
        ("testchat", 3, ["res", "stu1", "stu2"]), ("gapchat", 2, ["stu2"])]


def test_thresholds_of_questions_and_answers(chat_con):
    con, _ = chat_con
    loose = detect_chats(con, ChatRules(min_questions=1, min_answers=0))
    # Feb 4, the one-question night, the unanswered night, and the two halves of the gap night;
    # #FOAMed on Feb 4's Q3 loses to #TestChat, which holds more of the questions
    assert [(c["hashtag"], c["questions"], c["answers"]) for c in loose] == [
        ("testchat", 3, 2), ("testchat", 1, 1), ("otherchat", 2, 0), ("gapchat", 1, 1), ("gapchat", 1, 0)]


def test_detection_is_repeatable(chat_con):
    con, _ = chat_con
    first = detect_chats(con)
    assert detect_chats(con) == first
    assert con.execute("SELECT count(*) FROM chats").fetchone() == (1,)


def test_cli_chats_json(cli, tmp_path):
    corpus, _ = chat_corpus()
    cli("ingest", corpus.write(tmp_path / "chats.jsonl"))
    chats = json.loads(cli("chats", "--json").output)
    assert [(c["hashtag"], c["host"], c["participants"]) for c in chats] == [
        ("testchat", "SocExample", ["res", "stu1", "stu2"])]


def test_sample_study_chats_hosts_and_participants(tmp_path):
    from flows.sample.generate import generate
    from flows.store.db import connect

    manifest = generate(tmp_path)
    truth = json.loads(Path(manifest["truth"]).read_text(encoding="utf-8"))
    con = connect(tmp_path / "s.duckdb")
    ingest(con, [manifest["corpus"]])
    found = {c["chat_id"].split(":")[1]: c for c in detect_chats(con)}
    assert len(found) == len(truth["chats"])
    for planted in truth["chats"]:
        chat = found[planted["question_post_ids"][0]]
        assert chat["hashtag"] == planted["hashtag"].lower() and chat["hosts"] == [planted["host"]]
        assert sorted(chat["participants"]) == sorted(planted["participants"])
        assert planted["start"][:19] <= chat["started_at"][:19] <= chat["ended_at"][:19] <= planted["end"][:19]


# The chats the real tweet-chat CSVs hold, listed by hand from the files (Topsy exports, 2014):
# - Tweets_BleedingDisorders_full.csv: #HemoChat on 2014-06-25, 17:00-18:00 UTC, hosted by @NHF_Hemophilia
#   with @hemophiliafed; Q1..Q5 by the host, answered "A1" (@webleedonline) and "A2" (@hemophiliafed).
# - Tweets_Celiac_full.csv: #abcDRBchat on 2014-06-10, 17:10-18:20 UTC, hosted by @abcDrBchat, topics
#   numbered T1..T9 and answered "T2 ...", "T3 ..." by many accounts; @DoctorTennyson, the guest expert,
#   numbers as many topics as the host. (The file was collected by #celiac, so the host's T1 and T5,
#   which do not carry #celiac, are not in it.) #gf and #celiac ride along on the same posts: one chat.
# - Tweets_CancerChat_full.csv: a #cancerchat hosted by @EverydayAbleism on 2014-06-19, its questions
#   unnumbered ("First question - ...", "Last qu ..."): not detected (numbered schemes only).
# - Cholera, RareDiseaseDay: no chat.
REAL_CHATS = {
    "Tweets_BleedingDisorders_full.csv": [("hemochat", "nhf_hemophilia", ["nhf_hemophilia"], 5, 2, "2014-06-25")],
    "Tweets_Celiac_full.csv": [("abcdrbchat", "abcdrbchat", ["abcdrbchat", "doctortennyson"], 7, 47, "2014-06-10")],
    "Tweets_CancerChat_full.csv": [],
    "Tweets_RareDiseaseDay_full.csv": [],
    "Tweets_Cholera_full.csv": [],
}


@pytest.mark.parametrize("name", sorted(REAL_CHATS))
def test_the_chats_of_the_real_tweet_chat_files(shared, tmp_path, name):
    from flows.store.db import connect

    con = connect(tmp_path / "real.duckdb")
    ingest(con, [shared / "healthcare_twitter_analysis" / "files" / name])
    found = [(c["hashtag"], c["host"].lower(), sorted(h.lower() for h in c["hosts"]), c["questions"], c["answers"],
              c["started_at"][:10]) for c in detect_chats(con)]
    assert found == REAL_CHATS[name]
