"""Ingest speed against DuckDB's own read_json, and peak memory on a large file.

Builds twarc2 files from the sample study (pages replicated with shifted tweet ids), then:
1. times DuckDB's `read_json` reading every tweet of the file (the baseline: parsing only);
2. times `ethnoflow ingest` of the same file into a fresh store (parse, keep raw, normalise,
   merge, commit) and prints tweets/s and the ratio to the baseline (target >= 0.5);
3. ingests a larger file in a child process and reports its peak memory (target < 2 GB
   for 1,000,000 tweets).

    python benchmarks/bench_ingest.py [--tweets 200000] [--big 1000000] [--workdir DIR]

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

import duckdb

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from flows.sample.generate import generate  # noqa: E402


def build_corpus(path: Path, tweets: int, workdir: Path) -> int:
    """Write about `tweets` tweets as twarc2 pages; returns the exact count."""
    manifest = generate(workdir / "sample", seed=7)
    pages = [json.loads(line) for line in Path(manifest["corpus"]).read_text().splitlines()]
    written = 0
    with open(path, "w", encoding="utf-8") as out:
        copy = 0
        while written < tweets:
            for page in pages:
                shifted = shift_ids(page, copy)
                out.write(json.dumps(shifted, ensure_ascii=False, separators=(",", ":")) + "\n")
                written += len(shifted["data"])
                if written >= tweets:
                    break
            copy += 1
    return written


def shift_ids(page: dict, copy: int) -> dict:
    """A copy of a page whose tweet ids are moved by `copy` so every copy is new posts."""
    if copy == 0:
        return page
    offset = copy * 10**13

    def move(tweet_id: str) -> str:
        return str(int(tweet_id) + offset)

    def tweet(t: dict) -> dict:
        t = dict(t, id=move(t["id"]))
        if "conversation_id" in t:
            t["conversation_id"] = move(t["conversation_id"])
        if "referenced_tweets" in t:
            t["referenced_tweets"] = [dict(r, id=move(r["id"])) for r in t["referenced_tweets"]]
        return t

    includes = dict(page.get("includes", {}))
    includes["tweets"] = [tweet(t) for t in includes.get("tweets", [])]
    return dict(page, data=[tweet(t) for t in page["data"]], includes=includes)


def baseline(path: Path) -> tuple[int, float]:
    """DuckDB read_json over the file: every tweet in `data`, parsed (and counted)."""
    con = duckdb.connect()
    start = time.perf_counter()
    n = con.execute(f"SELECT count(*) FROM (SELECT unnest(data) FROM read_json('{path}', "
                    "format='newline_delimited', maximum_object_size=268435456))").fetchone()[0]
    return n, time.perf_counter() - start


def ethnoflow_ingest(path: Path, db: Path) -> tuple[int, float]:
    from flows.ingest.files import ingest
    from flows.store.db import connect

    for stale in db.parent.glob(db.name + "*"):  # a fresh store every run
        stale.unlink()
    con = connect(db)
    start = time.perf_counter()
    report = ingest(con, [path])[0]
    elapsed = time.perf_counter() - start
    con.close()
    return report.read, elapsed


def peak_memory_mb(path: Path, db: Path) -> tuple[float, float]:
    """Ingest in a child process; its peak resident memory (MB) and wall time."""
    for stale in db.parent.glob(db.name + "*"):
        stale.unlink()
    code = ("import sys; from flows.store.db import connect; from flows.ingest.files import ingest; "
            "ingest(connect(sys.argv[2]), [sys.argv[1]])")
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", code, str(path), str(db)], check=True, cwd=ROOT)
    elapsed = time.perf_counter() - start
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024, elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tweets", type=int, default=200_000)
    parser.add_argument("--big", type=int, default=1_000_000, help="tweets for the memory run (0: skip)")
    parser.add_argument("--workdir", type=Path, default=None)
    args = parser.parse_args()
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="bench_ingest_"))
    workdir.mkdir(parents=True, exist_ok=True)

    corpus = workdir / f"twarc2_{args.tweets}.jsonl"
    n = build_corpus(corpus, args.tweets, workdir)
    size_mb = corpus.stat().st_size / 1e6
    base_n, base_s = baseline(corpus)
    ours_n, ours_s = ethnoflow_ingest(corpus, workdir / "bench.duckdb")
    assert base_n == ours_n == n, (base_n, ours_n, n)
    figures = {
        "tweets": n, "file_mb": round(size_mb, 1),
        "read_json_tweets_per_s": round(base_n / base_s), "ingest_tweets_per_s": round(ours_n / ours_s),
        "ratio_to_read_json": round((ours_n / ours_s) / (base_n / base_s), 3), "target_ratio": 0.5,
    }
    print(f"{n:,} tweets ({size_mb:.0f} MB): read_json {figures['read_json_tweets_per_s']:,}/s, "
          f"ethnoflow ingest {figures['ingest_tweets_per_s']:,}/s, ratio {figures['ratio_to_read_json']}")

    if args.big:
        big = workdir / f"twarc2_{args.big}.jsonl"
        build_corpus(big, args.big, workdir)
        peak, seconds = peak_memory_mb(big, workdir / "big.duckdb")
        figures.update({"big_tweets": args.big, "big_file_mb": round(big.stat().st_size / 1e6),
                        "big_peak_memory_mb": round(peak), "big_seconds": round(seconds, 1),
                        "target_peak_memory_mb": 2048})
        print(f"{args.big:,} tweets: peak memory {peak:,.0f} MB in {seconds:.0f} s")
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
