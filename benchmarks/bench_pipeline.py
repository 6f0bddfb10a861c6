"""End-to-end pipeline time and peak memory, and an unchanged re-run against the first run.

For each corpus a fresh study is made with `ethnoflow init`, the corpus is put in its inbox,
and `ethnoflow run` is timed twice in child processes (the second run has nothing new to
do). Peak memory is each child's maximum resident set size.

    python benchmarks/bench_pipeline.py [--large 100000] [--large-model static] [--workdir DIR]

The sample study uses the bundled MiniLM model and BERTopic, as `make demo` does. The
100,000-post corpus uses the static model by default (MiniLM would spend ~20 minutes
embedding alone on 2 cores); pass --large-model minilm to measure that instead.
The last line printed is one JSON object with the figures.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from flows.sample.generate import generate  # noqa: E402
from flows.study.scaffold import create_study  # noqa: E402

ETHNOFLOW = str(Path(sys.executable).with_name("ethnoflow"))


def make_study(folder: Path, tweets: int, accounts: int, model: str) -> Path:
    shutil.rmtree(folder, ignore_errors=True)
    study = create_study(folder, title=f"bench {tweets}")
    text = study.read_text().replace("  model: minilm", f"  model: {model}").replace(
        "  embedder: minilm", f"  embedder: {model}")
    study.write_text(text)
    manifest = generate(folder / "data" / "generated", tweets=tweets, accounts=accounts, seed=11)
    shutil.move(manifest["corpus"], folder / "data" / "inbox" / "corpus.jsonl")
    return study


def timed_run(study: Path) -> tuple[float, float, dict]:
    """One `ethnoflow run --json` in a child process: seconds, peak MB, its stage counts."""
    start = time.perf_counter()
    child = subprocess.Popen([ETHNOFLOW, "run", "--json"], cwd=study.parent, stdout=subprocess.PIPE,
                             stderr=subprocess.DEVNULL, text=True)
    out = child.stdout.read()
    _, status, usage = os.wait4(child.pid, 0)
    seconds = time.perf_counter() - start
    if status != 0:
        raise SystemExit(f"ethnoflow run failed in {study.parent}")
    return seconds, usage.ru_maxrss / 1024, json.loads(out)


def bench(name: str, study: Path) -> dict:
    first_s, first_mb, first = timed_run(study)
    again_s, again_mb, _ = timed_run(study)
    stages = {s["stage"]: s["seconds"] for s in first["stages"]}
    print(f"{name}: first run {first_s:.1f} s (peak {first_mb:,.0f} MB; stages {stages}); "
          f"unchanged re-run {again_s:.1f} s = {again_s / first_s:.3f} of the first")
    return {f"{name}_first_s": round(first_s, 1), f"{name}_first_peak_mb": round(first_mb),
            f"{name}_rerun_s": round(again_s, 1), f"{name}_rerun_ratio": round(again_s / first_s, 3),
            f"{name}_stage_s": stages}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--large", type=int, default=100_000, help="posts in the large corpus (0: skip)")
    parser.add_argument("--large-model", default="static")
    parser.add_argument("--workdir", type=Path, default=None)
    args = parser.parse_args()
    work = args.workdir or Path(tempfile.mkdtemp(prefix="bench_pipeline_"))
    figures = bench("sample", make_study(work / "sample", 6000, 40, "minilm"))
    if args.large:
        figures |= bench("large", make_study(work / "large", args.large, 400, args.large_model))
        figures["large_posts"], figures["large_model"] = args.large, args.large_model
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
