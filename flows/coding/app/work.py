"""What the coding app reads and writes: a round's posts, one coder's codes, disagreements, consensus.

Codes go into the tables a coding sheet fills, through the same writers
(:func:`flows.coding.store.write_batch`, :func:`~flows.coding.store.replace_assignments`,
:func:`flows.coding.memos.write_memos`, :func:`flows.coding.coders.register_coder`), one post at a
time and each save in its own transaction: a round coded here gives the same ``agreement`` as
the same codes imported from sheets, and sheets and the app can be mixed in one round. A coder's
functions take the coder's name and read or write only that coder's rows (the blinding).

"Post not available" is a note on the post (label ``not available``), with no codes; "skip"
writes nothing, so the post stays to do.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import duckdb
import pandas as pd

from flows.coding.codebook import Codebook, assignable_codes
from flows.coding.coders import log_action, register_coder
from flows.coding.memos import Memo, write_memos
from flows.coding.store import (
    CONSENSUS,
    CodingError,
    clear_assignments,
    register_codebook,
    replace_assignments,
    write_batch,
)
from flows.store.db import sql_text, transaction

UNAVAILABLE = "not available"
METHOD = "human"
MACHINE = "auto"


@dataclass(frozen=True)
class Round:
    """A sampled round as the app codes it: every coder codes every post, in the sheet's order."""

    round_id: str
    codebook: Codebook
    coders: tuple[str, ...]
    posts: tuple[tuple[str, str, str], ...]  # (platform, post_id, stratum) by position
    reviewer: str = "reviewer"

    @property
    def codes(self) -> list[str]:
        return [c.id for c in assignable_codes(self.codebook)]

    def index(self, platform: str, post_id: str) -> int:
        """The position of a post in the round; a post not in it is refused."""
        for i, (p, q, _) in enumerate(self.posts):
            if (p, q) == (platform, post_id):
                return i
        raise CodingError(f"post {platform}/{post_id} is not in round {self.round_id[:12]}")


def rounds(con: duckdb.DuckDBPyConnection) -> list[dict[str, Any]]:
    """Every sampled round: id, codebook, posts, strata, seed."""
    return [dict(zip(("round_id", "codebook_id", "n", "strata", "seed"), r)) for r in con.execute(
        "SELECT round_id, codebook_id, n, strata, seed FROM coding_rounds ORDER BY codebook_id, round_id").fetchall()]


def find_round(con: duckdb.DuckDBPyConnection, ref: str | None) -> dict[str, Any]:
    """The round ``ref`` names (its id or first 6+ characters); the only round when None."""
    found = rounds(con)
    listing = "; ".join(f"{r['round_id'][:12]} ({r['codebook_id']}, {r['n']} posts, strata "
                        f"{r['strata'] or 'none'})" for r in found) or "none"
    if not found:
        raise CodingError("no coding round yet: draw one with `ethnoflow sample --codebook ID --n 40 --out "
                          "round.xlsx` (the app codes the posts it drew)")
    if ref is None:
        if len(found) == 1:
            return found[0]
        raise CodingError(f"{len(found)} rounds; pass --round with one of: {listing}")
    hits = [r for r in found if len(ref) >= 6 and r["round_id"].startswith(ref.lower())]
    if len(hits) != 1:
        raise CodingError(f"no round '{ref}' (give at least 6 characters of its id); rounds: {listing}")
    return hits[0]


def load_round(con: duckdb.DuckDBPyConnection, round_id: str, codebook: Codebook, coders: list[str],
               reviewer: str = "reviewer") -> Round:
    """The round with its posts in order; ``codebook`` (the round's, as the study has it now) is made
    current, carrying codes over when its file changed since the round was drawn."""
    row = con.execute("SELECT codebook_id FROM coding_rounds WHERE round_id = ?", [round_id]).fetchall()
    if not row:
        raise CodingError(f"no round {round_id[:12]}")
    if row[0][0] != codebook.id:
        raise CodingError(f"round {round_id[:12]} codes {row[0][0]}, not {codebook.id}; pass --codebook {row[0][0]}")
    if not coders:
        raise CodingError("name the round's coders: --coders ana,ben (or study.yaml coding: coders)")
    if reviewer in coders:
        raise CodingError(f"{reviewer} cannot both code and adjudicate the round; choose another --reviewer")
    posts = con.execute("""SELECT platform, post_id, stratum FROM coding_round_posts WHERE round_id = ?
        ORDER BY position""", [round_id]).fetchall()
    with transaction(con):
        register_codebook(con, codebook)
    return Round(round_id, codebook, tuple(coders), tuple(posts), reviewer)


def _batch(con: duckdb.DuckDBPyConnection, rnd: Round, coder: str) -> str:
    config = {"app": "code-app", "round": rnd.round_id}
    if coder == CONSENSUS:
        config["reviewer"] = rnd.reviewer
    return write_batch(con, coder, rnd.codebook, METHOD, config, rnd.round_id)


def states(con: duckdb.DuckDBPyConnection, rnd: Round, coder: str) -> dict[tuple[str, str], str]:
    """The coder's round posts that are done: ``coded`` or ``unavailable``."""
    keys = [f"{p}\x1f{q}" for p, q, _ in rnd.posts]
    out = {}
    for platform, post_id in con.execute("""SELECT DISTINCT platform, post_id FROM memos WHERE coder = ?
            AND codebook_id = ? AND label = ? AND list_contains(?, platform || chr(31) || post_id)""",
                                         [coder, rnd.codebook.id, UNAVAILABLE, keys]).fetchall():
        out[(platform, post_id)] = "unavailable"
    for platform, post_id in con.execute("""SELECT DISTINCT platform, post_id FROM code_assignments
            WHERE coder = ? AND content_hash = ? AND list_contains(?, platform || chr(31) || post_id)""",
                                         [coder, rnd.codebook.content_hash, keys]).fetchall():
        out[(platform, post_id)] = "coded"
    return out


def progress(con: duckdb.DuckDBPyConnection, rnd: Round, coder: str) -> dict[str, Any]:
    """How far the coder is: done of total, per stratum of the sample, and the first post to do."""
    done = states(con, rnd, coder)
    strata: dict[str, list[int]] = {}
    for platform, post_id, stratum in rnd.posts:
        counts = strata.setdefault(stratum, [0, 0])
        counts[0] += (platform, post_id) in done
        counts[1] += 1
    todo = next((i for i, (p, q, _) in enumerate(rnd.posts) if (p, q) not in done), None)
    return {"done": len(done), "total": len(rnd.posts), "next": todo, "states": done,
            "strata": [{"stratum": s or "all", "done": d, "total": t} for s, (d, t) in sorted(strata.items())]}


def posts(con: duckdb.DuckDBPyConnection, platform: str, post_ids: list[str]) -> dict[str, dict[str, Any]]:
    """Posts by id with their author's handle, name, bio and role."""
    result = con.execute(sql_text("coding/app_post.sql"), {"platform": platform, "post_ids": post_ids})
    names = [d[0] for d in result.description]
    return {row[1]: dict(zip(names, row)) for row in result.fetchall()}


def context(con: duckdb.DuckDBPyConnection, platform: str, post_id: str, *, thread: bool = False) -> dict[str, Any]:
    """The post, the post it answers, the post it quotes and, on request, its thread (up to 40 posts)."""
    post = posts(con, platform, [post_id]).get(post_id)
    if post is None:
        raise CodingError(f"post {platform}/{post_id} is no longer in the store (withdrawn?)")
    related = [i for i in (post["in_reply_to_post_id"], post["quoted_post_id"]) if i]
    found = posts(con, platform, related) if related else {}
    out = {"post": post, "parent": found.get(post["in_reply_to_post_id"]), "quoted": found.get(post["quoted_post_id"]),
           "thread": None}
    if thread and post["conversation_id"]:
        ids = [r[0] for r in con.execute("""SELECT post_id FROM posts WHERE platform = ? AND conversation_id = ?
            AND kind <> 'repost' ORDER BY created_at NULLS LAST, post_id LIMIT 40""",
                                         [platform, post["conversation_id"]]).fetchall()]
        shown = posts(con, platform, ids)
        out["thread"] = [shown[i] for i in ids if i in shown]
    return out


def own_codes(con: duckdb.DuckDBPyConnection, rnd: Round, coder: str, platform: str,
              post_id: str) -> tuple[set[str], str]:
    """The coder's own present codes and post memo for one post (nobody else's)."""
    codes = {r[0] for r in con.execute("""SELECT code_id FROM code_assignments WHERE coder = ? AND content_hash = ?
        AND platform = ? AND post_id = ? AND value = 1""", [coder, rnd.codebook.content_hash, platform,
                                                              post_id]).fetchall()}
    memo = con.execute("""SELECT memo FROM memos WHERE coder = ? AND codebook_id = ? AND platform = ? AND post_id = ?
        AND code_id IS NULL AND label = 'memo'""", [coder, rnd.codebook.id, platform, post_id]).fetchall()
    return codes, memo[0][0] if memo else ""


def suggestion(con: duckdb.DuckDBPyConnection, rnd: Round, platform: str, post_id: str) -> list[str] | None:
    """The machine's present codes for the post when the round shows suggestions, else None."""
    if not suggestions_on(con, rnd.round_id):
        return None
    return [r[0] for r in con.execute("""SELECT code_id FROM code_assignments WHERE coder = ? AND content_hash = ?
        AND platform = ? AND post_id = ? AND value = 1 ORDER BY code_id""",
                                      [MACHINE, rnd.codebook.content_hash, platform, post_id]).fetchall()]


def save(con: duckdb.DuckDBPyConnection, rnd: Round, coder: str, platform: str, post_id: str,
         present: set[str], memo: str = "") -> None:
    """Store the coder's codes of one post (every code: present or absent) and its memo, at once."""
    with transaction(con):
        _write(con, rnd, coder, platform, post_id, present, memo)


def mark_unavailable(con: duckdb.DuckDBPyConnection, rnd: Round, coder: str, platform: str, post_id: str,
                     memo: str = "") -> None:
    """Record that the coder could not code the post (deleted, protected, unreadable): no codes."""
    with transaction(con):
        _write_unavailable(con, rnd, coder, platform, post_id, memo)


def _write(con: duckdb.DuckDBPyConnection, rnd: Round, coder: str, platform: str, post_id: str,
           present: set[str], memo: str) -> None:
    rnd.index(platform, post_id)
    unknown = sorted(set(present) - set(rnd.codes))
    if unknown:
        raise CodingError(f"{', '.join(unknown)}: not a code of {rnd.codebook.id}")
    text_sha = con.execute("SELECT sha256(coalesce(text, '')) FROM posts WHERE platform = ? AND post_id = ?",
                           [platform, post_id]).fetchall()
    if not text_sha:
        raise CodingError(f"post {platform}/{post_id} is no longer in the store (withdrawn?)")
    frame = _frame(rnd, coder, [(platform, post_id, set(present), text_sha[0][0])])
    memos = [Memo(coder, memo.strip(), platform, post_id)] if memo.strip() else []
    register_coder(con, coder)
    frame["batch_id"] = batch = _batch(con, rnd, coder)
    replace_assignments(con, frame)
    write_memos(con, rnd.codebook, memos, batch, replace_posts=[(coder, platform, post_id)])


def _write_unavailable(con: duckdb.DuckDBPyConnection, rnd: Round, coder: str, platform: str, post_id: str,
                       memo: str) -> None:
    rnd.index(platform, post_id)
    memos = [Memo(coder, "post not available", platform, post_id, None, "note", UNAVAILABLE)]
    memos += [Memo(coder, memo.strip(), platform, post_id)] if memo.strip() else []
    register_coder(con, coder)
    batch = _batch(con, rnd, coder)
    clear_assignments(con, coder, rnd.codebook.content_hash, platform, post_id)
    write_memos(con, rnd.codebook, memos, batch, replace_posts=[(coder, platform, post_id)])


def _frame(rnd: Round, coder: str, rows: list[tuple[str, str, set[str], str]]) -> pd.DataFrame:
    """Assignments in the shape of ``code_assignments`` (as a sheet import builds them)."""
    cb = rnd.codebook
    records = [(platform, post_id, cb.id, cb.content_hash, code, coder, int(code in present), None, text_sha)
               for platform, post_id, present, text_sha in rows for code in rnd.codes]
    frame = pd.DataFrame.from_records(records, columns=["platform", "post_id", "codebook_id", "content_hash",
                                                        "code_id", "coder", "value", "score", "text_sha256"])
    return frame.astype({"value": "int8", "score": "float64"})


def finished(con: duckdb.DuckDBPyConnection, rnd: Round) -> dict[str, dict[str, int]]:
    """Each coder's progress (done, total): adjudication opens when every coder is done."""
    return {c: {"done": len(states(con, rnd, c)), "total": len(rnd.posts)} for c in rnd.coders}


def _values(con: duckdb.DuckDBPyConnection, rnd: Round, coders: list[str]) -> dict[tuple[str, str, str], set[str]]:
    keys = [f"{p}\x1f{q}" for p, q, _ in rnd.posts]
    out: dict[tuple[str, str, str], set[str]] = {}
    for platform, post_id, coder, code, value in con.execute("""SELECT platform, post_id, coder, code_id, value
            FROM code_assignments WHERE content_hash = ? AND list_contains(?, coder)
              AND list_contains(?, platform || chr(31) || post_id)""",
                                                              [rnd.codebook.content_hash, coders, keys]).fetchall():
        entry = out.setdefault((platform, post_id, coder), set())
        if value:
            entry.add(code)
    return out


def disagreements(con: duckdb.DuckDBPyConnection, rnd: Round) -> list[dict[str, Any]]:
    """Posts the coders saw differently (codes, or one could not code it), in round order, each with
    every coder's codes and memos and the consensus stored so far."""
    coders = list(rnd.coders)
    values = _values(con, rnd, [*coders, CONSENSUS])
    states_of = {c: states(con, rnd, c) for c in [*coders, CONSENSUS]}
    memos = _round_memos(con, rnd, coders)
    out = []
    for i, (platform, post_id, stratum) in enumerate(rnd.posts):
        seen = {c: (states_of[c].get((platform, post_id)), values.get((platform, post_id, c), set())) for c in coders}
        if any(state is None for state, _ in seen.values()):
            continue  # not finished by everyone
        if len({(state, frozenset(codes)) for state, codes in seen.values()}) == 1:
            continue
        disputed = sorted(c for c in rnd.codes if len({c in codes for _, codes in seen.values()}) > 1)
        agreed = {c for c in rnd.codes if c not in disputed and all(c in codes for _, codes in seen.values())}
        out.append({"index": i, "platform": platform, "post_id": post_id, "stratum": stratum,
                    "coders": {c: {"state": s, "codes": sorted(v)} for c, (s, v) in seen.items()},
                    "memos": {c: memos.get((platform, post_id, c), []) for c in coders},
                    "disputed": disputed, "agreed": sorted(agreed),
                    "consensus": states_of[CONSENSUS].get((platform, post_id)),
                    "consensus_codes": sorted(values.get((platform, post_id, CONSENSUS), set()))})
    return out


def agreed_posts(con: duckdb.DuckDBPyConnection, rnd: Round) -> list[tuple[str, str, set[str]]]:
    """Posts every coder coded with the same codes and that have no consensus yet."""
    coders = list(rnd.coders)
    values = _values(con, rnd, [*coders, CONSENSUS])
    states_of = {c: states(con, rnd, c) for c in [*coders, CONSENSUS]}
    out = []
    for platform, post_id, _ in rnd.posts:
        if (platform, post_id) in states_of[CONSENSUS]:
            continue
        if all(states_of[c].get((platform, post_id)) == "coded" for c in coders) and len(
                {frozenset(values.get((platform, post_id, c), set())) for c in coders}) == 1:
            out.append((platform, post_id, values.get((platform, post_id, coders[0]), set())))
    return out


def _round_memos(con: duckdb.DuckDBPyConnection, rnd: Round, coders: list[str]) -> dict[tuple, list[str]]:
    out: dict[tuple, list[str]] = {}
    for platform, post_id, coder, label, memo in con.execute("""SELECT platform, post_id, coder, label, memo
            FROM memos WHERE codebook_id = ? AND list_contains(?, coder) AND post_id <> '' AND label <> ?
            ORDER BY platform, post_id, coder, label""", [rnd.codebook.id, coders, UNAVAILABLE]).fetchall():
        out.setdefault((platform, post_id, coder), []).append(memo if label == "memo" else f"{label}: {memo}")
    return out


def resolve(con: duckdb.DuckDBPyConnection, rnd: Round, platform: str, post_id: str, present: set[str],
            memo: str = "", *, unavailable: bool = False) -> None:
    """The reviewer's consensus for one post, stored as the coder ``consensus``, with an audit row (an
    ``import`` by the app, naming the reviewer)."""
    with transaction(con):
        if unavailable:
            _write_unavailable(con, rnd, CONSENSUS, platform, post_id, memo)
        else:
            _write(con, rnd, CONSENSUS, platform, post_id, present, memo)
        log_action(con, "import", CONSENSUS, {"app": "code-app", "round": rnd.round_id, "reviewer": rnd.reviewer,
                                              "post": f"{platform}/{post_id}", "unavailable": unavailable})


def accept_agreed(con: duckdb.DuckDBPyConnection, rnd: Round) -> int:
    """Make every agreed post's codes the consensus (one transaction); returns how many posts."""
    agreed = agreed_posts(con, rnd)
    if not agreed:
        return 0
    texts = dict(con.execute("SELECT platform || chr(31) || post_id, sha256(coalesce(text, '')) FROM posts "
                             "WHERE list_contains(?, platform || chr(31) || post_id)",
                             [[f"{p}\x1f{q}" for p, q, _ in agreed]]).fetchall())
    frame = _frame(rnd, CONSENSUS, [(p, q, codes, texts[f"{p}\x1f{q}"]) for p, q, codes in agreed])
    with transaction(con):
        register_coder(con, CONSENSUS)
        frame["batch_id"] = _batch(con, rnd, CONSENSUS)
        replace_assignments(con, frame)
        log_action(con, "import", CONSENSUS, {"app": "code-app", "round": rnd.round_id, "reviewer": rnd.reviewer,
                                              "agreed_posts": len(agreed)})
    return len(agreed)


def round_agreement(con: duckdb.DuckDBPyConnection, rnd: Round, *, n_boot: int = 1000,
                    seed: int = 0) -> dict[str, Any]:
    """Per-code agreement among the round's coders on the round's posts so far, with the statistics
    (and cache) of ``ethnoflow agreement``."""
    from flows.coding.agreement import cached_summary
    from flows.coding.store import values, wide

    coders = list(rnd.coders)
    frame = values(con, rnd.codebook.content_hash, coders)
    keys = {(p, q) for p, q, _ in rnd.posts}
    frame = frame[[k in keys for k in zip(frame["platform"], frame["post_id"])]]
    if frame.empty or frame["coder"].nunique() < 2:
        return {"codes": {}, "overall": None}
    tables = {code: wide(frame, code, coders) for code in rnd.codes}
    codes = {code: cached_summary(con, t.T.to_numpy(), n_boot=n_boot, seed=seed) for code, t in tables.items()}
    pooled = pd.concat(tables.values())
    return {"codes": codes, "overall": cached_summary(con, pooled.T.to_numpy(), n_boot=n_boot, seed=seed)}


def suggestions_on(con: duckdb.DuckDBPyConnection, round_id: str) -> bool:
    """Whether the round shows coders the machine's codes (off unless turned on)."""
    row = con.execute("SELECT shown FROM coding_round_suggestions WHERE round_id = ?", [round_id]).fetchall()
    return bool(row and row[0][0])


def set_suggestions(con: duckdb.DuckDBPyConnection, round_id: str, on: bool) -> None:
    """Turn machine suggestions on or off for a round; once on, the round keeps a row saying so."""
    with transaction(con):
        if on:
            con.execute("INSERT OR REPLACE INTO coding_round_suggestions VALUES (?, ?, true)", [round_id, MACHINE])
        else:
            con.execute("UPDATE coding_round_suggestions SET shown = false WHERE round_id = ?", [round_id])
