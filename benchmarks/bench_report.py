"""Build the study report of a 1,000,000-post store: time, peak memory and the size of report.html.

The store is synthetic and written straight into the tables by SQL
(``tests/fixtures/report/synthetic.py``): ``--posts`` posts over ten years by ``--accounts``
accounts in 30 languages, ``--sources`` source files and rejects with ``--reasons`` distinct
reasons, a superuser selection, a codebook of ``--codes`` codes coded by ``auto`` on every
authored post and by two people on ``--human`` posts, and a topic run of ``--topics`` topics.

Then, in a child process (so its peak memory is its own), ``build_report`` writes the report
with the default settings, and a second build checks it is byte-identical. The baseline,
timed in the same run on the same store, is one aggregate scan of every post (month, kind,
language): the report's time is printed as a multiple of it. Target: report.html under 10 MB.

    python benchmarks/bench_report.py [--posts 1000000] [--accounts 20000] [--workdir DIR]

The last line printed is one JSON object with the figures.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

CHILD = """
import hashlib, json, resource, sys, time
from pathlib import Path
from flows.store.db import connect
from flows.report.build import build_report
from flows.report.settings import ReportSettings
con = connect(sys.argv[1], read_only=True)
t = time.perf_counter()
con.execute("SELECT date_trunc('month', created_at) AS m, kind, lang, count(*) FROM posts GROUP BY ALL").fetchall()
baseline = time.perf_counter() - t
out = Path(sys.argv[2])
t = time.perf_counter(); first = build_report(con, out / "a", ReportSettings()); report_s = time.perf_counter() - t
second = build_report(con, out / "b", ReportSettings())
html = out / "a" / "report.html"
print(json.dumps({"baseline_s": baseline, "report_s": report_s, "html_bytes": html.stat().st_size,
                  "md_bytes": (out / "a" / "report.md").stat().st_size,
                  "csv_bytes": sum(p.stat().st_size for p in (out / "a" / "tables").glob("*.csv")),
                  "files": len(first.files), "identical": first.files == second.files,
                  "sections": first.sections,
                  "peak_memory_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=1_000_000)
    parser.add_argument("--accounts", type=int, default=20_000)
    parser.add_argument("--codes", type=int, default=9)
    parser.add_argument("--topics", type=int, default=300)
    parser.add_argument("--sources", type=int, default=1_000)
    parser.add_argument("--reasons", type=int, default=2_000)
    parser.add_argument("--human", type=int, default=300)
    parser.add_argument("--workdir", type=Path, default=None)
    args = parser.parse_args()
    from fixtures.report.synthetic import build_store

    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="bench_report_"))
    workdir.mkdir(parents=True, exist_ok=True)
    db = workdir / "report.duckdb"
    for stale in workdir.glob("report.duckdb*"):
        stale.unlink()
    start = time.perf_counter()
    os.environ.setdefault("ETHNOFLOW_DUCKDB_MEMORY", "6GB")  # building the primary-key index of 7M codes
    build_store(db, posts=args.posts, accounts=args.accounts, codes=args.codes, topics=args.topics,
                sources=args.sources, reasons=args.reasons, candidates=5_000, selected=200, human=args.human)
    generate_s = time.perf_counter() - start
    env = {k: v for k, v in os.environ.items() if k != "ETHNOFLOW_DUCKDB_MEMORY"}  # the report: the default cap
    env["ETHNOFLOW_SECRET"] = os.environ.get("ETHNOFLOW_SECRET", "benchmark-secret")
    done = subprocess.run([sys.executable, "-c", CHILD, str(db), str(workdir / "out")], check=True, cwd=ROOT,
                          capture_output=True, text=True, env=env)
    r = json.loads(done.stdout.strip().splitlines()[-1])
    figures = {"posts": args.posts, "accounts": args.accounts, "codes": args.codes, "topics": args.topics,
               "sources": args.sources, "reject_reasons": args.reasons, "generate_s": round(generate_s, 1),
               "baseline_scan_s": round(r["baseline_s"], 2), "report_s": round(r["report_s"], 1),
               "report_vs_scan": round(r["report_s"] / r["baseline_s"], 1),
               "html_mb": round(r["html_bytes"] / 1e6, 2), "md_mb": round(r["md_bytes"] / 1e6, 2),
               "csv_mb": round(r["csv_bytes"] / 1e6, 2), "files": r["files"], "byte_identical": r["identical"],
               "sections_with_data": sum(v == "ok" for v in r["sections"].values()),
               "peak_memory_mb": round(r["peak_memory_mb"]), "target_html_mb": 10}
    figures["target_met"] = figures["html_mb"] < 10 and figures["byte_identical"]
    print(f"{args.posts:,} posts: report in {figures['report_s']} s ({figures['report_vs_scan']}x one scan of "
          f"the posts), report.html {figures['html_mb']} MB, report.md {figures['md_mb']} MB, CSV "
          f"{figures['csv_mb']} MB, peak memory {figures['peak_memory_mb']:,} MB, byte-identical rebuild: "
          f"{figures['byte_identical']}")
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
