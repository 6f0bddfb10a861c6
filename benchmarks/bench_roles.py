"""Roles measured: per-role precision and recall on the dev set's 50 hand-labelled bios, and what
the roles stage does with the real bios of ../shared/fixtures.

    .venv/bin/python benchmarks/bench_roles.py [--fake] [--sample 8] [--show]

1. ``../shared/devset/dev_authors.jsonl``: 50 invented accounts (students, residents, faculty),
   each with the role it was written as. Two methods on the same bios, the baseline first, taken
   in the same run: ``rules`` (the bio and display-name rules alone; the rest ``unknown``) and
   ``auto`` (what the roles stage does: rules, then the bundled MiniLM's nearest prototype for bios
   no rule reads, ``unknown`` below the minimum score), with auto's accuracy and coverage as ratios
   of the rules'. Per role: precision, recall and support;
   coverage is the share not left ``unknown`` (``unknown`` counts against recall, never against
   precision: it is a refusal, not a claim).
2. The real third-party corpora in ``../shared/fixtures`` (every file that holds posts): their
   accounts' bios through the same stage. They carry no labels, so the figures are what was given,
   by which method and how sure, and ``--show`` prints a seeded sample of ``--sample`` accounts
   per role (bio and evidence) for reading by hand. Those bios are real people's and stay on the
   terminal: nothing is written.

``--fake`` uses the deterministic n-gram embedder instead of MiniLM (a smoke run: its scores do
not mean what MiniLM's do). Ends with one JSON line of the figures.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SHARED = ROOT.parent / "shared"
DEVSET = SHARED / "devset" / "dev_authors.jsonl"
FIXTURES = SHARED / "fixtures"


def scores(truth: list[str], given: list[str]) -> dict:
    """Per role in ``truth``: precision, recall, support; and coverage and accuracy overall."""
    out = {}
    for role in sorted(set(truth)):
        claimed = sum(g == role for g in given)
        hit = sum(g == role == t for g, t in zip(given, truth))
        support = sum(t == role for t in truth)
        out[role] = {"precision": round(hit / claimed, 3) if claimed else None,
                     "recall": round(hit / support, 3), "support": support, "claimed": claimed}
    wrong = [(t, g) for t, g in zip(truth, given) if g not in (t, "unknown")]
    return {"roles": out, "coverage": round(sum(g != "unknown" for g in given) / len(given), 3),
            "accuracy": round(sum(g == t for g, t in zip(given, truth)) / len(given), 3),
            "wrong": len(wrong), "confusions": dict(Counter(f"{t}->{g}" for t, g in wrong))}


def classify(rows, embedder):
    import duckdb

    from flows.people.roles import classify as classify_rows
    from flows.store.migrations import migrate

    con = duckdb.connect()
    migrate(con)
    try:
        return classify_rows(rows, con=con, embedder=embedder)
    finally:
        con.close()


def devset(embedder) -> dict:
    authors = [json.loads(line) for line in DEVSET.read_text(encoding="utf-8").splitlines() if line.strip()]
    rows = [("twitter", a["author_handle"], a["author_handle"].lstrip("@"), a["display_name"], a["bio"])
            for a in authors]
    truth = [a["author_role"] for a in authors]
    out = {}
    for name, model in (("rules", None), ("auto", embedder)):
        given = classify(rows, model)
        out[name] = scores(truth, [a.role for a in given])
        out[name]["methods"] = dict(Counter(a.method for a in given))
    return out


def real_accounts(workdir: Path):
    """(platform, author_id, handle, display_name, bio) of every account in the shared fixtures."""
    from flows.ingest.files import ingest
    from flows.people.roles import accounts
    from flows.store.db import connect

    con = connect(workdir / "real.duckdb")
    try:
        reports = ingest(con, [FIXTURES], skip_refused=True)
        return accounts(con), sum(r.ingested for r in reports)
    finally:
        con.close()


def real(embedder, sample: int, show: bool, seed: int = 7) -> dict:
    with tempfile.TemporaryDirectory(prefix="bench-roles-") as work:
        rows, posts = real_accounts(Path(work))
    given = classify(rows, embedder)
    with_bio = [a for a, r in zip(given, rows) if (r[4] or "").strip()]
    by_method = Counter(f"{a.role}/{a.method}" for a in given)
    low = [a.score for a in given if a.method == "embedding"]
    if show:
        rng = random.Random(seed)
        bios = {(r[0], r[1]): r[4] for r in rows}
        for role in sorted({a.role for a in with_bio}):
            picked = [a for a in with_bio if a.role == role]
            for a in sorted(rng.sample(picked, min(sample, len(picked))), key=lambda a: (a.platform, a.author_id)):
                bio = " ".join((bios[(a.platform, a.author_id)] or "").split())[:160]
                print(f"[{role}] {bio!r}\n    {a.evidence[0][:150] if a.evidence else ''}")
    return {"posts": posts, "accounts": len(given), "with_bio": len(with_bio),
            "roles": dict(sorted(Counter(a.role for a in given).items())),
            "roles_of_bios": dict(sorted(Counter(a.role for a in with_bio).items())),
            "by_method": dict(sorted(by_method.items())),
            "embedding_scored": len(low), "embedding_unknown": sum(s < 0.4 for s in low)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--fake", action="store_true", help="the n-gram stand-in instead of MiniLM")
    parser.add_argument("--sample", type=int, default=8, help="accounts shown per role with --show")
    parser.add_argument("--show", action="store_true", help="print a seeded sample of real bios per role")
    args = parser.parse_args()
    if not DEVSET.is_file():
        print(f"skipped: the dev set is not at {DEVSET} (../shared/devset beside the repository)")
        print(json.dumps({"skipped": "no dev set"}))
        return
    from flows.embed.models import load_embedder

    embedder = load_embedder("fake" if args.fake else "minilm")
    t0 = time.perf_counter()
    dev = devset(embedder)
    for name, figures in dev.items():
        print(f"dev set, {name}: coverage {figures['coverage']}, accuracy {figures['accuracy']}, "
              f"wrong {figures['wrong']} {figures['confusions']}")
        for role, f in figures["roles"].items():
            print(f"  {role:>10}: precision {f['precision']}, recall {f['recall']} (n={f['support']})")
    ratios = {f"auto/rules {k}": round(dev["auto"][k] / dev["rules"][k], 3) if dev["rules"][k] else None
              for k in ("accuracy", "coverage")}
    print("against the baseline (rules alone, this run): " + ", ".join(f"{k} {v}x" for k, v in ratios.items()))
    t1 = time.perf_counter()
    shared = real(embedder, args.sample, args.show) if FIXTURES.is_dir() else None
    if shared:
        print(f"real fixtures: {shared['accounts']} accounts ({shared['with_bio']} with a bio) of "
              f"{shared['posts']} posts: {shared['roles_of_bios']} among bios; {shared['by_method']}")
    print(json.dumps({"model": embedder.model_id, "devset": dev, "ratios": ratios, "real": shared,
                      "seconds": {"devset": round(t1 - t0, 1), "real": round(time.perf_counter() - t1, 1)}}))


if __name__ == "__main__":
    main()
