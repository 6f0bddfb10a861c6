"""Tweet chats: a hashtag, numbered questions from a host, answers, within a time window.

Detection rule (``ChatRules``; SQL in ``flows/people/sql/chat_*.sql``):

1. A **numbered post** is a post (not a repost) that opens, after any @handles, with ``Q<n>``,
   ``T<n>``, ``Question <n>`` or ``Topic <n>`` ("Q1: How did you find your first mentor?
   #MedEdChat", "T2 #Celiac is ...", "Q.3") and carries a hashtag; "T2 diabetes" and "Q3
   earnings" are not.
2. Numbered posts with the same hashtag belong to one **session** while each follows the
   previous within ``max_gap_minutes`` (30). The session's **hosts** are the accounts that
   posted the most distinct numbers (co-hosts tie); its **question posts** are the hosts'
   numbered posts. A session with at
   least ``min_questions`` (2) distinct question numbers is a candidate. When candidates with different hashtags share
   question posts (a Q carrying #MedEdChat and #FOAMed), the one with more distinct
   questions wins, then the hashtag used least in the corpus (the most specific), then
   the alphabetically first.
3. The chat's **window** runs from ``lead_minutes`` (30) before the first question to
   ``tail_minutes`` (60) after the last. Its **posts** are the non-reposts inside the window
   that carry the hashtag, plus replies inside the window to those posts.
4. The host shown is the host who posted the most question posts (ties: the smaller handle).
   An **answer** is a chat post opening with ``A<n>``, or a non-host's numbered post (a chat
   that numbers topics T1, T2 is answered "T1 ..."). **Participants** are the other accounts
   that answered or replied to a post of the chat; accounts that only used the hashtag in the window (a promotion of
   next week's chat) are kept in ``chat_participation`` but not counted. A chat needs at
   least ``min_answers`` (1) answers from non-hosts.

Writes ``chats`` (one row per chat, ``chat_id`` = ``<hashtag>:<first question post id>``)
and ``chat_participation`` (one row per chat and account, hosts flagged).
"""

from __future__ import annotations

from collections import Counter

import duckdb
from pydantic import BaseModel, ConfigDict, Field

from flows.store.db import sql_text, transaction

# A numbered post: "Q1:", "Q.2", "Q 3)", "T1 ...", "T.3", "Question 4:", "Topic 2 -" after any @handles.
# Chats number their questions Q1/Q2 (answers A1/A2) or T1/T2 (topics, answered T1/T2 too).
QUESTION_RE = (r"^\s*(?:[@.]\w+:?\s+)*(?:[QqTt]|[Qq]uestion|[Tt]opic)\s?\.?\s?(\d{1,2})"
               r"(?:\s*[:.)\-–]|\s+[^\s\d])")
ANSWER_RE = r"^\s*(?:[@.]\w+:?\s+)*(?:[Aa]|[Aa]nswer)\s?\.?\s?(\d{1,2})(?:\s*[:.)\-–]|\s+[^\s\d])"
# Numbers that are not questions: "T1D", "T2 diabetes", "Q3 earnings", "T1 scan" (MRI).
NOT_QUESTION_RE = (r"(?i)^\s*(?:[@.]\w+:?\s+)*(?:t\s?[12]\s?(?:d\b|dm\b|diabet|weighted|scan|mri)|"
                   r"q\s?[1-4]\s+(?:\d{4}|earnings|results|report|sales|revenue|profit))")


class ChatRules(BaseModel):
    """How tweet chats are recognised (the ``chats:`` section of a study file)."""

    model_config = ConfigDict(extra="forbid")

    max_gap_minutes: int = Field(30, ge=1, description="longest gap between two questions of one chat")
    lead_minutes: int = Field(30, ge=0, description="window opens this long before the first question")
    tail_minutes: int = Field(60, ge=0, description="window closes this long after the last question")
    min_questions: int = Field(2, ge=1, description="distinct question numbers (Q1, Q2 ...) a chat needs")
    min_answers: int = Field(1, ge=0, description="answer posts (A1 ...) by participants a chat needs")
    question_pattern: str = Field(QUESTION_RE, description="regex (RE2) of a numbered question; group 1 is its "
                                  "number (Q1, T1, Question 1 ...)")
    not_question_pattern: str = Field(NOT_QUESTION_RE, description="regex (RE2) of numbered posts that are not "
                                      "questions (T2 diabetes, Q3 earnings)")
    answer_pattern: str = Field(ANSWER_RE, description="regex (RE2) of an answer (A1 ...); in a chat that numbers "
                                "topics (T1, T2), a participant's numbered post is an answer too")


def detect_chats(con: duckdb.DuckDBPyConnection, rules: ChatRules | None = None) -> list[dict]:
    """Rebuild ``chats`` and ``chat_participation`` from the posts; returns ``list_chats``."""
    import pyarrow as pa

    rules = rules or ChatRules()
    sessions = con.execute(sql_text("people/chat_sessions.sql"), {
        "question": rules.question_pattern, "not_question": rules.not_question_pattern,
        "max_gap_minutes": rules.max_gap_minutes, "min_questions": rules.min_questions}).fetchall()
    sessions = [s for s in map(_hosted, sessions) if s[5] >= rules.min_questions]
    windows, hosts = _windows(con, _without_overlaps(sessions), rules)
    with transaction(con):
        con.execute("DELETE FROM chats")
        con.execute("DELETE FROM chat_participation")
        columns = {c: [w[i] for w in windows] for i, c in enumerate(_WINDOW_COLUMNS)}
        con.register("_windows_in", pa.table(columns, schema=_schema()))
        con.register("_hosts_in", pa.table({"chat_id": [h[0] for h in hosts], "author_id": [h[1] for h in hosts]},
                                           schema=pa.schema([("chat_id", pa.string()), ("author_id", pa.string())])))
        con.execute("CREATE OR REPLACE TEMP TABLE _chat_windows AS SELECT * FROM _windows_in")
        con.execute("CREATE OR REPLACE TEMP TABLE _chat_hosts AS SELECT * FROM _hosts_in")
        con.unregister("_windows_in")
        con.unregister("_hosts_in")
        con.execute(sql_text("people/chat_posts.sql"), {"answer": rules.answer_pattern,
                                                         "question": rules.question_pattern,
                                                         "not_question": rules.not_question_pattern})
        con.execute(sql_text("people/chats.sql"), {"min_answers": rules.min_answers})
        con.execute("DELETE FROM _chat_windows WHERE chat_id NOT IN (SELECT chat_id FROM chats)")
        con.execute(sql_text("people/chat_participation.sql"))
        for temp in ("_chat_windows", "_chat_hosts", "_chat_posts"):
            con.execute(f"DROP TABLE {temp}")
    return list_chats(con)


_WINDOW_COLUMNS = ("chat_id", "platform", "hashtag", "host_id", "first_question_post_id",
                   "window_start", "window_end", "questions")


def _schema():
    import pyarrow as pa

    utc = pa.timestamp("us", tz="UTC")
    return pa.schema([("chat_id", pa.string()), ("platform", pa.string()), ("hashtag", pa.string()),
                      ("host_id", pa.string()), ("first_question_post_id", pa.string()),
                      ("window_start", utc), ("window_end", utc), ("questions", pa.int64())])


def _hosted(session: tuple) -> tuple:
    """A session's question posts narrowed to its hosts' (in a T1/T2 chat everyone numbers posts).

    The hosts are the accounts that posted the most distinct numbers (co-hosts tie); the
    questions are the distinct numbers they posted. The session keeps every numbered post
    (last element) to settle overlaps between hashtags.
    """
    platform, hashtag, number, posts, authors, numbers, first, last, uses = session
    per_author: dict[str, set[int]] = {}
    for author, n in zip(authors, numbers):
        per_author.setdefault(author, set()).add(n)
    most = max(len(v) for v in per_author.values())
    hosts = {a for a, v in per_author.items() if len(v) == most}
    kept = [(p, a, n) for p, a, n in zip(posts, authors, numbers) if a in hosts]
    return (platform, hashtag, number, [p for p, _, _ in kept], [a for _, a, _ in kept],
            len({n for _, _, n in kept}), first, last, uses, posts)


def _without_overlaps(sessions: list[tuple]) -> list[tuple]:
    """Keep, among candidates sharing question posts, the one the module docstring prefers."""
    ranked = sorted(sessions, key=lambda s: (-s[5], s[8], s[1], s[0], s[6]))
    taken: set[tuple[str, str]] = set()
    kept = []
    for s in ranked:
        posts = {(s[0], p) for p in s[9]}  # every numbered post of the session, not only the hosts'
        if not posts & taken:
            kept.append(s)
            taken |= posts
    return sorted(kept, key=lambda s: (s[6], s[0], s[1]))


def _windows(con, sessions: list[tuple], rules: ChatRules) -> tuple[list[tuple], list[tuple]]:
    """Rows of _chat_windows and (chat_id, host author id) rows of _chat_hosts."""
    from datetime import timedelta

    handles = dict(((p, a), (h or a).lower()) for p, a, h in
                   con.execute("SELECT platform, author_id, handle FROM accounts_v").fetchall())
    windows, hosts = [], []
    for platform, hashtag, _session, posts, authors, questions, first, last, _uses, _numbered in sessions:
        chat_id = f"{hashtag}:{posts[0]}"
        counts = Counter(authors)
        host = min(counts, key=lambda a: (-counts[a], handles.get((platform, a), a), a))
        windows.append((chat_id, platform, hashtag, host, posts[0], first - timedelta(minutes=rules.lead_minutes),
                        last + timedelta(minutes=rules.tail_minutes), questions))
        hosts.extend((chat_id, a) for a in sorted(counts))
    return windows, hosts


def list_chats(con: duckdb.DuckDBPyConnection) -> list[dict]:
    """Detected chats in time order with host and participant handles (stable JSON)."""
    chats = con.execute("""
        SELECT c.chat_id, c.platform, c.hashtag, coalesce(a.handle, c.host_id), c.questions, c.answers,
               c.posts, strftime(c.started_at, '%Y-%m-%dT%H:%M:%SZ'), strftime(c.ended_at, '%Y-%m-%dT%H:%M:%SZ')
        FROM chats c LEFT JOIN accounts_v a ON a.platform = c.platform AND a.author_id = c.host_id
        ORDER BY c.started_at, c.chat_id""").fetchall()
    people = con.execute("""
        SELECT p.chat_id, coalesce(a.handle, p.author_id) AS handle, p.is_host
        FROM chat_participation p LEFT JOIN accounts_v a USING (platform, author_id)
        WHERE p.is_host OR p.is_participant
        ORDER BY p.chat_id, lower(handle)""").fetchall()
    members: dict[str, dict[str, list[str]]] = {}
    for chat_id, handle, is_host in people:
        lists = members.setdefault(chat_id, {"hosts": [], "participants": []})
        lists["hosts" if is_host else "participants"].append(handle)
    keys = ("chat_id", "platform", "hashtag", "host", "questions", "answers", "posts", "started_at", "ended_at")
    return [dict(zip(keys, row)) | members.get(row[0], {"hosts": [], "participants": []}) for row in chats]


def chats_per_account(con: duckdb.DuckDBPyConnection) -> dict[tuple[str, str], int]:
    """{(platform, author_id): distinct chats taken part in, hosting included}."""
    return {(p, a): n for p, a, n in con.execute(
        "SELECT platform, author_id, count(DISTINCT chat_id) FROM chat_participation "
        "WHERE is_host OR is_participant GROUP BY ALL").fetchall()}
