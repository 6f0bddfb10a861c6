"""A million posts: ethnoflow's topic stage (fit on a seeded sample, the rest assigned in batches)
against a plain BERTopic fit on all posts of a smaller corpus, in the same run.

The corpus is synthetic: one sample-study corpus (``--tweets`` generated tweets, ingested as
twarc2), whose authored posts are copied ``k`` times in SQL, each copy a month later, with a
new id and a word and number of its own appended, until about ``--posts`` posts are modelled
(every text distinct, so each is embedded). Embeddings: the static model (model2vec,
distilled from MiniLM). Both measurements run in fresh processes, which first import BERTopic
and compile numba's code on a toy problem (not counted), so that their peak resident memory
(VmHWM) is their own:

* **ethnoflow**: ``run_topics`` with the defaults (``fit_sample`` 50,000): embed every post
  (cached), fit BERTopic on the sample, describe the topics, then assign every other post in
  batches of 50,000 by the refresh rule. Time and peak memory of the whole stage.
* **plain BERTopic**: ``BERTopic().fit_transform`` on the first ``--plain`` posts (canonical
  order) with their cached embeddings: what one would do without sampling, at the largest size
  tried here (``--plain``; memory and time grow with it, UMAP's neighbour graph first).

Goal (issue 19): 1,000,000 posts in < 15 min and < 8 GB on this machine (2 cores, shared). Each
side also reports its CPU seconds (its own and its worker processes') and the load average at
its end: on a shared machine the wall time measures the other processes too.
Run: nice -n 10 .venv/bin/python benchmarks/bench_topics_scale.py [--posts N] [--plain N]
Ends with one JSON line.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

WORDS = ("rounds", "wards", "clinic", "boards", "match", "residency", "burnout", "wellness", "mentor", "sepsis",
         "stroke", "asthma", "insulin", "vaccine", "journal", "podcast", "simulation", "anatomy", "ethics", "equity")


def build(db: Path, posts: int, tweets: int) -> int:
    """The synthetic corpus; returns the posts the default settings model."""
    from flows.ingest.files import ingest
    from flows.sample.generate import generate
    from flows.store.db import connect
    from flows.topics.corpus import count_docs
    from flows.topics.settings import TopicSettings

    con = connect(db)
    ingest(con, [generate(db.parent / "base", tweets=tweets, accounts=200, months=12)["corpus"]])
    base = count_docs(con, TopicSettings())
    copies = max(0, math.ceil(posts / base) - 1)
    words = "[" + ", ".join(f"'{w}'" for w in WORDS) + "]"
    con.execute(f"""
        INSERT INTO posts
        SELECT p.* REPLACE (post_id || '.' || k AS post_id,
                          text || ' ' || {words}[1 + CAST((k + hash(post_id) % 1000) % {len(WORDS)} AS INTEGER)]
                          || ' ' || k AS text,
                          created_at + to_months(CAST(k AS INTEGER)) AS created_at,
                          conversation_id || '.' || k AS conversation_id)
        FROM posts AS p, range(1, {copies + 1}) AS r(k)
        WHERE kind <> 'repost'""")
    modelled = count_docs(con, TopicSettings())
    con.close()
    return modelled


def cpu_seconds() -> float:
    """CPU time (user + system) of this process and its finished children (HDBSCAN's workers):
    on a shared machine, the work done, whatever the other processes took of the cores."""
    import resource

    own, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def peak_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def child(mode: str, db: Path, models: Path, plain: int, sample: int) -> None:
    from bench_topics import _warm_up

    from flows.embed.models import load_embedder
    from flows.store.db import connect

    _warm_up()
    start_mb = peak_mb()
    con = connect(db)
    embedder = load_embedder("static", models_dir=models)
    t0, c0 = time.perf_counter(), cpu_seconds()
    if mode == "ours":
        from flows.topics.pipeline import run_topics
        from flows.topics.settings import TopicSettings

        report = run_topics(con, TopicSettings(model="static", fit_sample=sample), refit=True, embedder=embedder,
                            backend="bertopic", models_dir=db.parent / "models")
        seconds = time.perf_counter() - t0
        fit_s, embed_s = con.execute("SELECT fit_seconds, embed_seconds FROM topic_runs WHERE run_id = ?",
                                     [report.run_id]).fetchone()
        out = {"posts": report.assigned, "fitted": report.fit.docs, "topics": report.fit.topics,
               "outlier_share_fitted": round(report.fit.outlier_share, 4), "sample_embed_s": round(embed_s, 1),
               "sample_fit_s": round(fit_s, 1), "refresh_agreement": report.fit.refresh_agreement}
    else:
        import warnings

        from bertopic import BERTopic
        from umap import UMAP

        from flows.embed.cache import embed_texts
        from flows.topics.corpus import select_docs
        from flows.topics.settings import TopicSettings

        docs = select_docs(con, TopicSettings(), limit=plain)
        x = embed_texts(con, embedder, docs.texts)
        t0, c0 = time.perf_counter(), cpu_seconds()  # the fit alone: embeddings were cached by the ethnoflow run
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model = BERTopic(umap_model=UMAP(n_neighbors=15, n_components=5, min_dist=0.0, metric="cosine",
                                             random_state=2015))
            labels, _ = model.fit_transform(docs.texts, x)
        seconds = time.perf_counter() - t0
        out = {"posts": len(docs), "topics": len(set(labels) - {-1}),
               "outlier_share": round(sum(1 for t in labels if t == -1) / len(labels), 4)}
    print(json.dumps(out | {"seconds": round(seconds, 1), "cpu_seconds": round(cpu_seconds() - c0, 1),
                            "load_average": round(os.getloadavg()[0], 1), "peak_mb": round(peak_mb()),
                            "start_mb": round(start_mb)}))


def run_child(mode: str, db: Path, models: Path, plain: int, sample: int) -> dict:
    done = subprocess.run([sys.executable, __file__, "--child", mode, "--db", str(db), "--models-dir", str(models),
                           "--plain", str(plain), "--fit-sample", str(sample)], capture_output=True, text=True)
    if done.returncode:
        return {"failed": done.stderr.strip().splitlines()[-1] if done.stderr.strip() else f"exit {done.returncode}"}
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=1_000_000)
    parser.add_argument("--plain", type=int, default=100_000)
    parser.add_argument("--tweets", type=int, default=12_500)
    parser.add_argument("--fit-sample", type=int, default=50_000, help="study.yaml's topics.fit_sample")
    parser.add_argument("--models-dir", type=Path, default=Path("data/models"))
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--db", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.db, args.models_dir, args.plain, args.fit_sample)
        return
    with tempfile.TemporaryDirectory(prefix="bench_scale_") as tmp:
        db = Path(tmp) / "scale.duckdb"
        t0 = time.perf_counter()
        modelled = build(db, args.posts, args.tweets)
        print(f"corpus: {modelled:,} posts to model, built in {time.perf_counter() - t0:.0f} s", file=sys.stderr)
        ours = run_child("ours", db, args.models_dir, args.plain, args.fit_sample)
        print(f"ethnoflow: {ours}", file=sys.stderr)
        plain = run_child("plain", db, args.models_dir, args.plain, args.fit_sample)
        print(f"plain BERTopic: {plain}", file=sys.stderr)
    figures = {"modelled_posts": modelled, "ethnoflow": ours, "plain_bertopic": plain,
               "goal_met": bool(ours.get("seconds", 1e9) < 900 and ours.get("peak_mb", 1e9) < 8192)}
    if "seconds" in ours and "seconds" in plain:
        ratio = (ours["posts"] / ours["seconds"]) / (plain["posts"] / plain["seconds"])
        figures["posts_per_second_ratio"] = round(ratio, 2)
        print(f"ethnoflow {ours['posts']:,} posts in {ours['seconds']:.0f} s, peak {ours['peak_mb']:,} MB; plain "
              f"BERTopic {plain['posts']:,} posts in {plain['seconds']:.0f} s, peak {plain['peak_mb']:,} MB; posts "
              f"per second {ratio:.2f} x plain BERTopic's")
    print(json.dumps(figures, sort_keys=True))


if __name__ == "__main__":
    main()
