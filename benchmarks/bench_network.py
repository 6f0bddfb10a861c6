"""Build the interaction network of a 1,000,000-post corpus: time and peak memory.

The corpus is synthetic and written straight into the ``authors``, ``posts`` and
``entities`` tables by one SQL script (``SYNTHETIC_SQL`` below), so no JSON is parsed:
every value is a deterministic function of the row number (DuckDB's ``hash``), so the
same arguments always give the same corpus. Its shape:

- ``--accounts`` accounts (default 20,000) whose bios come from a handful of role
  templates ("MS3 ...", "PGY-2 ...", "Assistant Professor ...", ...), posting with a
  skewed activity (a few accounts write most posts, as on #MedTwitter);
- ``--posts`` posts (default 1,000,000) over a year: 45 % originals, 30 % replies, 20 %
  reposts, 5 % quotes. Replies, reposts and quotes point at one of the 2,000 previous
  posts; half of the replies go instead to an account of the author's own circle (the
  25 accounts either side of it) whose post is outside the corpus (only
  ``in_reply_to_author_id`` is known), which gives lasting reciprocal ties;
- replies carry the @mention of the account answered, a third of originals mention a
  circle account, half of all posts carry a field hashtag; some originals announce a paper,
  poster or award (sponsorship cues); every week account 0 hosts a chat (#BenchChat, Q1-Q3
  and 40 answers).

Then, in a child process (so its peak resident memory is its own), it times:
roles (rules only) -> tweet chats -> ``build_network`` (interactions, edges, centrality,
mentorship candidates, sponsorship events), and reports each stage, the total and the peak.
Targets: network build under 60 s and peak under 4 GB on 2 cores.

    python benchmarks/bench_network.py [--posts 1000000] [--accounts 20000] [--workdir DIR]

The last line printed is one JSON object with the figures.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SYNTHETIC_SQL = """
CREATE OR REPLACE TEMP MACRO u(i, salt) AS (hash(i, salt) % 1000003) / 1000003.0;
CREATE OR REPLACE TEMP MACRO author_of(i) AS floor(getvariable('n_accounts') * pow(u(i, 1), 2.5))::BIGINT;
CREATE OR REPLACE TEMP MACRO parent_of(i) AS i - 1 - (hash(i, 2) % 2000)::BIGINT;
CREATE OR REPLACE TEMP MACRO circle_of(a, i) AS
    (a + getvariable('n_accounts') + [-1, 1][1 + (hash(i, 7) % 2)::INT] * (1 + (hash(i, 3) % 25)::BIGINT))
    % getvariable('n_accounts');

INSERT INTO authors BY NAME
SELECT 'twitter' AS platform, 'u' || a AS author_id, 'user' || a AS handle, 'User ' || a AS display_name,
       ['MS3 at State SOM | future surgeon', 'PGY-2 internal medicine', 'Assistant Professor of Medicine',
        'ICU nurse, 10 years', 'Official account of the Journal of Examples', 'Dad, runner, coffee',
        'Med student, class of 2027', 'Program Director, EM residency'][1 + (hash(a, 9) % 8)::INT] AS bio,
       'bench' AS source_sha256, a AS record_no
FROM range(getvariable('n_accounts')) t(a);

CREATE OR REPLACE TEMP TABLE bench_plan AS
WITH base AS (
    SELECT i, author_of(i) AS a, u(i, 4) AS k, parent_of(i) AS j, u(i, 5) AS h,
           (i % getvariable('week')) AS w
    FROM range(getvariable('n_posts')) t(i)
)
SELECT i, j,
       CASE WHEN w < 3 THEN 0 ELSE a END AS a,
       CASE WHEN w < 43 THEN 'original' WHEN j < 0 OR k < 0.45 THEN 'original' WHEN k < 0.75 THEN 'reply'
            WHEN k < 0.95 THEN 'repost' ELSE 'quote' END AS kind,
       CASE WHEN w < 3 THEN 'q' WHEN w < 43 THEN 'a' END AS chat,
       h
FROM base;

INSERT INTO posts BY NAME
SELECT 'twitter' AS platform, 'p' || i AS post_id, 'u' || a AS author_id, 'user' || a AS author_handle,
       TIMESTAMPTZ '2014-01-01 00:00:00+00' + to_seconds((i * 31536000 // getvariable('n_posts'))::BIGINT)
           AS created_at,
       CASE WHEN chat = 'q' THEN 'Q' || (1 + i % getvariable('week')) || ': what did you learn this week? #BenchChat'
            WHEN chat = 'a' THEN 'A' || (1 + i % 3) || ': a lot, thanks! #BenchChat'
            WHEN kind = 'reply' THEN '@user' || author_of(j) || ' good point about the rotation'
            WHEN kind = 'repost' THEN 'RT @user' || author_of(j) || ': reposted text'
            WHEN h < 0.05 THEN 'Our paper is out! Two years of work #MedEd'
            WHEN h < 0.08 THEN 'Poster today at the annual meeting, come say hi'
            WHEN h < 0.5 THEN 'Teaching tip for students on rounds #MedEd'
            ELSE 'Third coffee of the day' END AS text,
       'en' AS lang, kind,
       CASE WHEN kind = 'reply' AND h >= 0.5 THEN 'p' || j
            WHEN kind = 'reply' THEN 'x' || i END AS in_reply_to_post_id,
       CASE WHEN kind = 'reply' AND h >= 0.5 THEN 'u' || author_of(j)
            WHEN kind = 'reply' THEN 'u' || circle_of(a, i) END AS in_reply_to_author_id,
       CASE WHEN kind = 'quote' THEN 'p' || j END AS quoted_post_id,
       CASE WHEN kind = 'repost' THEN 'p' || j END AS reposted_post_id,
       'bench' AS source_sha256, i AS record_no, 1 AS item_no, 'bench' AS parser_version
FROM bench_plan;

INSERT INTO entities BY NAME
SELECT 'twitter' AS platform, 'p' || i AS post_id, 'mention' AS kind,
       'user' || CASE WHEN kind = 'reply' AND h < 0.5 THEN circle_of(a, i) ELSE author_of(j) END AS value,
       'user' || CASE WHEN kind = 'reply' AND h < 0.5 THEN circle_of(a, i) ELSE author_of(j) END AS normalized,
       CASE WHEN kind = 'repost' THEN 3 ELSE 0 END AS start_pos,
       'u' || CASE WHEN kind = 'reply' AND h < 0.5 THEN circle_of(a, i) ELSE author_of(j) END AS target_id
FROM bench_plan WHERE kind IN ('reply', 'repost') AND chat IS NULL
UNION ALL
SELECT 'twitter', 'p' || i, 'mention', 'user' || circle_of(a, i), 'user' || circle_of(a, i), 40, 'u' || circle_of(a, i)
FROM bench_plan WHERE kind = 'original' AND chat IS NULL AND u(i, 6) < 0.33
UNION ALL
SELECT 'twitter', 'p' || i, 'hashtag', CASE WHEN chat IS NOT NULL THEN 'BenchChat' ELSE 'MedEd' END,
       CASE WHEN chat IS NOT NULL THEN 'benchchat' ELSE 'meded' END, 30, NULL
FROM bench_plan WHERE chat IS NOT NULL OR (kind <> 'repost' AND h < 0.5);
DROP TABLE bench_plan;
"""

CHILD = """
import json, resource, sys, time
from flows.store.db import connect
from flows.people.roles import assign_roles
from flows.people.chats import detect_chats
from flows.people.network import build_network
con = connect(sys.argv[1])
out = {}
t = time.perf_counter(); assign_roles(con, None); out["roles_s"] = time.perf_counter() - t
t = time.perf_counter(); out["chats"] = len(detect_chats(con)); out["chats_s"] = time.perf_counter() - t
t = time.perf_counter(); out.update(build_network(con)); out["network_s"] = time.perf_counter() - t
out["peak_memory_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps(out))
"""


def build_corpus(db: Path, posts: int, accounts: int) -> float:
    """Write the synthetic corpus into a fresh store; returns the seconds it took."""
    from flows.store.db import connect

    for stale in db.parent.glob(db.name + "*"):
        stale.unlink()
    con = connect(db)
    start = time.perf_counter()
    con.execute(f"SET VARIABLE n_posts = {int(posts)}; SET VARIABLE n_accounts = {int(accounts)};"
                f"SET VARIABLE week = {max(100, posts // 52)};")
    con.execute(SYNTHETIC_SQL)
    con.close()
    return time.perf_counter() - start


def run_child(db: Path) -> dict:
    """Roles, chats and the network in a child process; its figures and wall time."""
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", CHILD, str(db)], check=True, cwd=ROOT,
                          capture_output=True, text=True)
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    figures["wall_s"] = time.perf_counter() - start
    figures["children_peak_memory_mb"] = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=1_000_000)
    parser.add_argument("--accounts", type=int, default=20_000)
    parser.add_argument("--workdir", type=Path, default=None)
    args = parser.parse_args()
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="bench_network_"))
    workdir.mkdir(parents=True, exist_ok=True)
    db = workdir / "network.duckdb"

    gen_s = build_corpus(db, args.posts, args.accounts)
    r = run_child(db)
    figures = {
        "posts": args.posts, "accounts": args.accounts, "generate_s": round(gen_s, 1),
        "roles_s": round(r["roles_s"], 1), "chats_s": round(r["chats_s"], 1), "chats": r["chats"],
        "network_s": round(r["network_s"], 1), "interactions": r["interactions"], "edges": r["edges"],
        "network_accounts": r["accounts"], "mentorship_candidates": r["mentorship_candidates"],
        "sponsorship_events": r["sponsorship_events"],
        "total_s": round(r["roles_s"] + r["chats_s"] + r["network_s"], 1),
        "peak_memory_mb": round(r["peak_memory_mb"]), "target_s": 60, "target_peak_memory_mb": 4096,
    }
    figures["target_met"] = figures["total_s"] < 60 and figures["peak_memory_mb"] < 4096
    print(f"{args.posts:,} posts, {args.accounts:,} accounts: roles {figures['roles_s']} s, "
          f"chats {figures['chats_s']} s, network {figures['network_s']} s "
          f"({figures['interactions']:,} interactions, {figures['edges']:,} edges); "
          f"peak memory {figures['peak_memory_mb']:,} MB")
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
