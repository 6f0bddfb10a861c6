"""Topic quality: ethnoflow's topics against BERTopic with its defaults, in the same run.

Corpora: the five real tweet-chat exports of ../shared/fixtures together (Topsy CSVs, 2014:
cancer, rare diseases, bleeding disorders, cholera, celiac; en with es/fr/it/de), and the
sample study (`ethnoflow init --sample`: 6,000 fictional tweets). Both models get the same
posts (authored ones, canonical order) and the same cached embeddings (--model, default the
bundled MiniLM). "defaults" is ``BERTopic(umap_model=UMAP(<BERTopic's own UMAP settings>,
random_state=seed))``: everything BERTopic does by default, seeded so that the 3 seeds mean
something. Figures (flows.topics.quality), for each model and corpus:

* NPMI coherence of the top 10 keywords over the corpus's posts, and topic diversity;
* outlier share and number of topics; the same shares and sizes for every seed;
* stability: mean adjusted Rand index of the assignments across the seeds;
* stop words (stopwords-iso, every language of the corpus), handles (never written as a word
  outside an @mention), links and numbers among the top 5 words of all topics (counted);
* NPMI of the top 5 alone, and keywords per topic (ours may have fewer than 10);
* fit seconds.

Goals (issue 19): NPMI above the defaults', outliers <= 20%, 10-60 topics on the chat corpus,
no stop word, handle or link in a top 5. Ends with one JSON line. Run:
nice -n 10 .venv/bin/python benchmarks/bench_topics_quality.py [--model static] [--seeds 3] [--corpora chats,sample]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
import warnings
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
CHATS = ROOT.parent / "shared" / "fixtures" / "healthcare_twitter_analysis" / "files"


def build(kind: str, folder: Path):
    """A store holding the corpus."""
    from flows.ingest.files import ingest
    from flows.store.db import connect

    con = connect(folder / f"{kind}.duckdb")
    if kind == "chats":
        files = sorted(CHATS.glob("Tweets_*_full.csv"))
        if len(files) != 5:
            sys.exit(f"the five tweet-chat CSVs are not at {CHATS}")
        ingest(con, files)
    else:
        from flows.sample.generate import generate

        ingest(con, [generate(folder / "sample")["corpus"]])
    return con


def ours(con, embedder, seed: int, models: Path):
    from flows.topics.pipeline import run_topics
    from flows.topics.quality import run_assignments, run_topics_words
    from flows.topics.settings import TopicSettings

    t0 = time.perf_counter()
    report = run_topics(con, TopicSettings(seed=seed, model="static" if "static" in embedder.model_id else "minilm"),
                        refit=True, embedder=embedder, backend="bertopic", models_dir=models)
    seconds = time.perf_counter() - t0
    keys, labels = run_assignments(con, report.run_id)
    settled = json.loads(con.execute("SELECT resolved FROM topic_runs WHERE run_id = ?",
                                     [report.run_id]).fetchone()[0])
    return run_topics_words(con, report.run_id), labels, seconds, {
        "min_topic_size": settled["min_topic_size"], "outliers_before": settled["outliers_before"],
        "moved": settled["outliers_moved"]}


def defaults(texts, x, seed: int):
    """BERTopic as its README runs it, seeded."""
    import numpy as np
    from bertopic import BERTopic
    from umap import UMAP

    t0 = time.perf_counter()
    model = BERTopic(umap_model=UMAP(n_neighbors=15, n_components=5, min_dist=0.0, metric="cosine",
                                     random_state=seed))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        labels, _ = model.fit_transform(texts, x)
    words = [[w for w, _ in model.get_topics()[t] if w] for t in sorted(model.get_topics()) if t != -1]
    return words, np.asarray(labels), time.perf_counter() - t0, {}


def figures(fits, co, stop, handles) -> dict:
    from flows.topics.quality import diversity, npmi, stability, unreadable

    words, labels, seconds, extra = fits[0]
    bad = unreadable(words, stop, handles)
    return {"npmi": npmi(words, co), "npmi_top5": npmi(words, co, 5), "diversity": diversity(words),
            "keywords_per_topic": round(sum(map(len, words)) / max(1, len(words)), 2),
            "outlier_share": round(float((labels == -1).mean()), 4), "topics": len(words),
            "outlier_share_per_seed": [round(float((f[1] == -1).mean()), 4) for f in fits],
            "topics_per_seed": [len(f[0]) for f in fits],
            "npmi_per_seed": [npmi(f[0], co) for f in fits],
            "stability_ari": stability([f[1] for f in fits]),
            "unreadable_top5": len(bad), "unreadable_examples": sorted(set(bad))[:12],
            "fit_seconds": round(float(sum(f[2] for f in fits) / len(fits)), 1),
            "labels": [", ".join(w[:3]) for w in words[:12]], **extra}


def corpus(kind: str, model: str, seeds: list[int], folder: Path) -> dict:
    from flows.embed.cache import embed_texts
    from flows.embed.models import load_embedder
    from flows.topics.corpus import select_docs
    from flows.topics.quality import Cooccurrence, bare_handles, reference_sets
    from flows.topics.settings import TopicSettings
    from flows.topics.vocabulary import doc_language, stop_words

    con = build(kind, folder)
    embedder = load_embedder(model, models_dir=folder / "models")
    docs = select_docs(con, TopicSettings())
    x = embed_texts(con, embedder, docs.texts)
    co = Cooccurrence(reference_sets(docs.texts))
    stop = set()
    for code in {doc_language(t, lang) for t, lang in zip(docs.texts, docs.langs)} - {""}:
        stop |= stop_words(code)
    handles = bare_handles(con, docs.texts)  # as tests/test_topics_readable.py counts them
    print(f"{kind}: {len(docs):,} posts; fitting ours and BERTopic's defaults with seeds {seeds}", file=sys.stderr)
    mine = [ours(con, embedder, s, folder / "models") for s in seeds]
    base = [defaults(docs.texts, x, s) for s in seeds]
    result = {"posts": len(docs), "ours": figures(mine, co, stop, handles),
              "bertopic_defaults": figures(base, co, stop, handles)}
    o, d = result["ours"], result["bertopic_defaults"]
    result["npmi_gain"] = round(o["npmi"] - d["npmi"], 4) if o["npmi"] is not None and d["npmi"] is not None else None
    con.close()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="minilm")
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--corpora", default="chats,sample")
    args = parser.parse_args()
    seeds = [2015 + i for i in range(args.seeds)]
    out = {"model": args.model, "seeds": seeds}
    with tempfile.TemporaryDirectory() as tmp:
        for kind in args.corpora.split(","):
            folder = Path(tmp) / kind
            folder.mkdir()
            out[kind] = corpus(kind, args.model, seeds, folder)
            r = out[kind]
            for who in ("ours", "bertopic_defaults"):
                f = r[who]
                print(f"{kind:7} {who:18} NPMI {f['npmi']:+.3f} (top 5 {f['npmi_top5']:+.3f}, "
                      f"{f['keywords_per_topic']:.1f} words)  diversity {f['diversity']:.2f}  "
                      f"outliers {f['outlier_share']:.1%}  topics {f['topics']:>4}  ARI {f['stability_ari']}  "
                      f"unreadable top-5 words {f['unreadable_top5']}  fit {f['fit_seconds']:.0f}s")
                print(f"        labels: {' | '.join(f['labels'][:8])}")
    print(json.dumps(out, sort_keys=True))


if __name__ == "__main__":
    main()
