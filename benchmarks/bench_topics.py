"""Topic-model fit time and peak memory at about 10,000 and 100,000 posts.

Posts come from the sample study generator (one 12-month corpus per seed, each seed a later
year, so ids never collide). Default settings model authored posts (no reposts), which is
about 80% of the posts generated. Embeddings are computed first and cached, so the figures
are the fit alone (BERTopic: UMAP, HDBSCAN, c-TF-IDF; plus ethnoflow's representatives, refresh
check and storage). The 100,000-post run uses the static (model2vec) embeddings, because
MiniLM would need ~20 minutes to embed them on two cores; the 10,000-post run is done with
both models, so the 10x scaling compares like with like.

A second 10,000-post fit in a fresh process checks that the assignments come out identical.
Baselines measured in the same run: the 10,000-post fit for the 100,000-post one, and the
MiniLM 10,000-post fit for the static one. "ethnoflow's own steps" is the run's time beyond
embedding and the BERTopic fit: representative posts, the refresh check, saving and storing.
Each fit runs in its own process so its peak resident memory can be read; that process first
imports BERTopic and compiles UMAP's numba code on a toy problem (reported as import_and_jit_s,
which a first `ethnoflow topics` in a fresh process pays on top of the fit). Ends with one JSON
line of figures. Run: .venv/bin/python benchmarks/bench_topics.py [--small N] [--large N] [--tweets N]
(corpora, tweets each)
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

PER_CORPUS = 12_500  # tweets per generated corpus (~10,000 authored posts)


def build_store(db: Path, corpora: int, tweets: int, model: str, models_dir: Path) -> int:
    """Generate ``corpora`` sample corpora, ingest them, embed every post; return posts modelled."""
    from flows.embed.cache import embed_posts
    from flows.embed.models import load_embedder
    from flows.ingest.files import ingest
    from flows.sample.generate import generate
    from flows.store.db import connect
    from flows.topics.corpus import select_docs
    from flows.topics.settings import TopicSettings

    con = connect(db)
    for seed in range(corpora):
        manifest = generate(db.parent / f"corpus{seed}", seed=2015 + seed, tweets=tweets, accounts=200,
                            months=12, start=f"{2011 + seed}-01-01")
        ingest(con, [manifest["corpus"]])
    for name in dict.fromkeys([model, "static"]):
        embed_posts(con, load_embedder(name, models_dir=models_dir))
    docs = len(select_docs(con, TopicSettings()))
    con.close()
    return docs


def child(db: Path, model: str, backend: str, models_dir: Path) -> None:
    """One fit, in this process: print its figures as JSON."""
    from flows.embed.models import load_embedder
    from flows.store.db import connect
    from flows.topics.pipeline import run_topics
    from flows.topics.settings import TopicSettings

    start = time.perf_counter()
    if backend == "bertopic":
        _warm_up()
    warm_up = time.perf_counter() - start
    rss_before = peak_rss_mb()
    con = connect(db)
    report = run_topics(con, TopicSettings(model=model), refit=True, backend=backend,
                        embedder=load_embedder(model, models_dir=models_dir),
                        models_dir=db.parent / "models")  # the fitted BERTopic models stay in the temp dir
    fit_s, embed_s, total_s = con.execute("SELECT fit_seconds, embed_seconds, total_seconds FROM topic_runs "
                                          "WHERE run_id = ?", [report.run_id]).fetchall()[0]
    peak = peak_rss_mb()
    rows = con.execute("SELECT * FROM topic_assignments WHERE run_id = ? ORDER BY platform, post_id",
                       [report.run_id]).fetchall()
    digest = hashlib.sha256(repr(rows).encode()).hexdigest()[:16]
    print(json.dumps({"run": report.run_id, "assignments_sha256": digest, "docs": report.fit.docs,
                      "topics": report.fit.topics, "outlier_share": report.fit.outlier_share, "fit_s": fit_s,
                      "ethnoflow_s": total_s - fit_s - embed_s, "total_s": total_s, "import_and_jit_s": warm_up,
                      "peak_mb": peak, "peak_over_start_mb": peak - rss_before}))


def peak_rss_mb() -> float:
    """This process's peak resident memory (VmHWM; ru_maxrss would include the parent's)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # pragma: no cover - not Linux


def _warm_up() -> None:
    """Import BERTopic and let numba compile UMAP's and pynndescent's code on a toy problem,
    so the measured fit is the fit (a first fit in a fresh process pays ~40-60 s more)."""
    import bertopic  # noqa: F401
    import numpy as np
    from hdbscan import HDBSCAN
    from umap import UMAP

    # 5,000 points: above 4,096 UMAP switches to approximate neighbours (pynndescent), whose
    # compilation would otherwise land in the 10,000-post fit.
    x = np.random.default_rng(0).standard_normal((5000, 16)).astype(np.float32)
    HDBSCAN(min_cluster_size=10).fit(UMAP(n_components=5, random_state=0, n_jobs=1).fit_transform(x))


def fit_in_child(db: Path, model: str, backend: str, models_dir: Path) -> dict:
    out = subprocess.run([sys.executable, __file__, "--child", str(db), "--model", model, "--backend", backend,
                          "--models-dir", str(models_dir)], capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(small: int, large: int, tweets: int, models_dir: Path, root: Path) -> dict:
    (root / "small").mkdir()
    (root / "large").mkdir()
    t = time.perf_counter()
    docs_small = build_store(root / "small" / "s.duckdb", small, tweets, "minilm", models_dir)
    docs_large = build_store(root / "large" / "l.duckdb", large, tweets, "static", models_dir)
    print(f"stores built and embedded in {time.perf_counter() - t:.0f} s: {docs_small:,} and {docs_large:,} "
          "posts to model")
    runs = {
        "bertopic_10k_minilm": fit_in_child(root / "small" / "s.duckdb", "minilm", "bertopic", models_dir),
        "bertopic_10k_static": fit_in_child(root / "small" / "s.duckdb", "static", "bertopic", models_dir),
        "bertopic_100k_static": fit_in_child(root / "large" / "l.duckdb", "static", "bertopic", models_dir),
    }
    again = fit_in_child(root / "small" / "s.duckdb", "static", "bertopic", models_dir)
    same = again["assignments_sha256"] == runs["bertopic_10k_static"]["assignments_sha256"]
    print(f"the 10k static fit repeated in a fresh process gave {'identical' if same else 'DIFFERENT'} assignments")
    for name, r in runs.items():
        print(f"{name:<22} {r['docs']:>7,} posts  fit {r['fit_s']:6.1f} s + ethnoflow's own steps "
              f"{r['ethnoflow_s']:5.1f} s"
              f"  peak RSS {r['peak_mb']:7.0f} MB (+{r['peak_over_start_mb']:.0f} MB in the fit)"
              f"  {r['topics']} topics, outliers {r['outlier_share']:.1%}")
    small_b, large_b = runs["bertopic_10k_static"], runs["bertopic_100k_static"]
    size_ratio = large_b["docs"] / small_b["docs"]
    speed = small_b["fit_s"] / runs["bertopic_10k_minilm"]["fit_s"]
    print(f"static vs MiniLM embeddings, same 10k posts: {speed:.2f} x the fit time")
    print(f"100k vs 10k (static): {size_ratio:.1f} x the posts took {large_b['fit_s'] / small_b['fit_s']:.1f} x the "
          f"fit time and {large_b['peak_mb'] / small_b['peak_mb']:.1f} x the peak memory")
    figures = {name: {k: round(v, 3) if isinstance(v, float) else v for k, v in r.items()} for name, r in runs.items()}
    figures["repeat_identical"] = same
    print(json.dumps(figures))
    return figures


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", type=int, default=1, help="corpora in the small store")
    parser.add_argument("--large", type=int, default=10, help="corpora in the large store")
    parser.add_argument("--tweets", type=int, default=PER_CORPUS, help="tweets per corpus")
    parser.add_argument("--models-dir", type=Path, default=Path("data/models"))
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--model", default="static", help=argparse.SUPPRESS)
    parser.add_argument("--backend", default="bertopic", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.model, args.backend, args.models_dir)
    else:
        with tempfile.TemporaryDirectory(prefix="bench_topics_") as tmp:
            main(args.small, args.large, args.tweets, args.models_dir, Path(tmp))
