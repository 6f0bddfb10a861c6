"""Machine coding against the sample study's ground truth, with and without human training codes.

    .venv/bin/python benchmarks/bench_coding.py [--real-model | --fake] [--train-posts 120]

Honesty first: the sample corpus is SYNTHETIC (template-generated posts by invented accounts,
``flows.sample.generate``). The issue's targets (macro kappa >= 0.4 without human codes, >= 0.6
after 120 human-coded posts) are stated for real, unseen medical-trainee tweets, which this
project does not have; nothing printed here shows or claims them.

Design, so the figures do not flatter:

- Authors, not only posts, are held out: the accounts are split (seeded) into training and
  test authors. The 120 "human-coded" posts (ground truth standing in for a careful coder) are
  drawn only from training authors; every kappa is measured only on test authors' posts.
- "Without training" is the same pipeline with no human codes: rules, plus the semantic coder
  where the codebook says rules are not enough.
- The baseline, taken in the same run, is ``auto:rules`` alone.
- Not independent: a few generic rule patterns in ``chretien2015`` and ``micromentorship`` (1.1)
  were added after reading this corpus's false negatives, and the semantic coder's default
  threshold was set looking at its score distributions, so the untrained figures are optimistic
  even for this corpus.

Ends with one JSON line of the figures.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

CODEBOOKS = ("chretien2015", "mentorship_medtwitter", "micromentorship")
CODER = "truth120"
MIN_PLANTED = 10  # codes with fewer held-out positives are shown but left out of macro kappa


def _split_authors(con, seed: int, test_share: float) -> set[str]:
    authors = sorted(r[0] for r in con.execute(
        "SELECT DISTINCT author_id FROM posts WHERE kind <> 'repost'").fetchall())
    rng = np.random.default_rng(seed)
    shuffled = [authors[i] for i in rng.permutation(len(authors))]
    return set(shuffled[: round(len(authors) * test_share)])


def _human_round(con, codebook, truth: dict, train_authors: set[str], n: int, seed: int,
                 work: Path) -> None:
    """Sample n posts of training authors into a sheet, fill it from ground truth, import it."""
    from flows.coding.importing import import_codes
    from flows.coding.rounds import draw, post_context, sheet_header
    from flows.coding.sheets import write_sheet

    frame = post_context(con)
    frame = frame[frame["author_id"].isin(train_authors)]
    drawn = draw(frame, n, ["author"], seed)
    header = sheet_header(codebook)
    codes = header[5:-1]
    rows = [[r.post_id, r.author, r.date, r.text, r.in_reply_to,
             *(int(c in truth[r.post_id][codebook.id]) for c in codes), ""]
            for r in drawn.itertuples()]
    sheet = write_sheet(work / f"{codebook.id}_{CODER}.csv", header, rows)
    import_codes(con, sheet, CODER, codebook, replace=True)


def _planted(con, codebook, truth: dict, test_authors: set[str]) -> dict[str, int]:
    """How many held-out posts the ground truth codes with each code."""
    posts = [r[0] for r in con.execute("""SELECT post_id FROM posts WHERE kind <> 'repost'
        AND list_contains(?, author_id)""", [sorted(test_authors)]).fetchall()]
    from flows.coding.codebook import assignable_codes

    return {c.id: sum(c.id in truth[p][codebook.id] for p in posts) for c in assignable_codes(codebook)}


def _kappas(con, codebook, truth: dict, test_authors: set[str], coder: str) -> dict[str, float | None]:
    from flows.coding.stats import classification_metrics

    rows = con.execute("""SELECT v.post_id, v.code, v.value FROM code_values v
        JOIN posts p USING (platform, post_id)
        WHERE v.codebook = ? AND v.coder = ? AND list_contains(?, p.author_id)
        ORDER BY v.code, v.post_id""", [codebook.id, coder, sorted(test_authors)]).fetchall()
    by_code: dict[str, tuple[list[int], list[int]]] = {}
    for post_id, code, value in rows:
        y, p = by_code.setdefault(code, ([], []))
        y.append(int(code in truth[post_id][codebook.id]))
        p.append(int(value))
    return {code: classification_metrics(y, p)["kappa"] for code, (y, p) in sorted(by_code.items())}


def _macro(kappas: dict[str, float | None], positives: dict[str, int]) -> float | None:
    """Mean kappa over codes the ground truth actually uses on held-out posts (the sample study
    plants no community_campaigns, trolling or harassment posts: kappa is 0 or undefined)."""
    defined = [k for c, k in kappas.items() if positives.get(c, 0) >= MIN_PLANTED and k is not None]
    return round(float(np.mean(defined)), 3) if defined else None


def run(embedder, train_posts: int, seed: int, test_share: float) -> dict:
    from flows.coding.codebook import resolve_codebook
    from flows.coding.machine import code_corpus
    from flows.ingest.files import ingest
    from flows.sample.generate import generate
    from flows.store.db import connect

    work = Path(tempfile.mkdtemp(prefix="bench_coding_"))
    manifest = generate(work / "sample")
    truth = json.loads(Path(manifest["truth"]).read_text())["codes"]
    con = connect(work / "bench.duckdb")
    ingest(con, [manifest["corpus"]])
    test_authors = _split_authors(con, seed, test_share)
    train_authors = {r[0] for r in con.execute("SELECT DISTINCT author_id FROM posts").fetchall()} - test_authors
    results = {}
    for codebook_id in CODEBOOKS:
        codebook = resolve_codebook(codebook_id)
        started = time.perf_counter()
        code_corpus(con, codebook, embedder=embedder, seed=seed)
        untrained_s = time.perf_counter() - started
        rules = _kappas(con, codebook, truth, test_authors, "auto:rules")
        untrained = _kappas(con, codebook, truth, test_authors, "auto")
        _human_round(con, codebook, truth, train_authors, train_posts, seed, work)
        started = time.perf_counter()
        summary = code_corpus(con, codebook, embedder=embedder, train_from=[CODER], seed=seed)
        trained_s = time.perf_counter() - started
        trained = _kappas(con, codebook, truth, test_authors, "auto")
        results[codebook_id] = {"rules": rules, "untrained": untrained, "trained": trained,
                                "positives": _planted(con, codebook, truth, test_authors),
                                "sources": summary.get("auto", {}), "choice": summary.get("auto_choice", {}),
                                "seconds": [round(untrained_s, 1), round(trained_s, 1)]}
    con.close()
    return {"results": results, "test_authors": len(test_authors),
            "train_authors": len(train_authors), "model": embedder.model_id if embedder else None}


def report(out: dict, train_posts: int) -> dict:
    print("SYNTHETIC sample corpus: template-generated posts by invented accounts. These figures")
    print("are NOT evidence for the issue's targets (macro kappa >= 0.4 untrained, >= 0.6 after 120")
    print("human-coded posts), which are stated for real, unseen medical-trainee tweets; we have none.")
    print("Some shipped rules and the default semantic threshold were tuned while reading this corpus,")
    print("so the untrained column is optimistic even here.")
    print(f"model: {out['model']}; kappa on posts of {out['test_authors']} held-out authors; "
          f"training codes: {train_posts} posts of the other {out['train_authors']} authors\n")
    figures = {"model": out["model"], "train_posts": train_posts, "codebooks": {}}
    for codebook_id, r in out["results"].items():
        print(f"{codebook_id}:")
        print(f"  {'code':<24}{'pos':>5}{'rules':>8}{'auto':>8}{'auto+120':>10}  source after training")
        for code in r["trained"]:
            cells = [r[k].get(code) for k in ("rules", "untrained", "trained")]
            text = "".join(f"{'n/a' if v is None else f'{v:.3f}':>{w}}" for v, w in zip(cells, (8, 8, 10)))
            note = "" if r["positives"][code] >= MIN_PLANTED else "  (too rare here: not in macro)"
            print(f"  {code:<24}{r['positives'][code]:>5}{text}  {r['sources'].get(code, '')}{note}")
        macro = {k: _macro(r[k], r["positives"]) for k in ("rules", "untrained", "trained")}
        print(f"  {'MACRO':<29}{macro['rules']:>8}{macro['untrained']:>8}{macro['trained']:>10}"
              f"   (seconds: {r['seconds'][0]} untrained, {r['seconds'][1]} trained)\n")
        figures["codebooks"][codebook_id] = {"macro": macro, "positives": r["positives"], "per_code": {
            k: {c: None if v is None else round(v, 3) for c, v in r[k].items()}
            for k in ("rules", "untrained", "trained")}}
    planted = {f"{cb}.{c}": n for cb, r in out["results"].items() for c, n in r["positives"].items()}
    overall = {k: _macro({f"{cb}.{c}": v for cb, r in out["results"].items() for c, v in r[k].items()},
                         planted) for k in ("rules", "untrained", "trained")}
    figures["macro_all_codes"] = overall
    print(f"macro kappa over the {sum(n >= MIN_PLANTED for n in planted.values())} codes with >= "
          f"{MIN_PLANTED} held-out positives: rules {overall['rules']}, auto without training "
          f"{overall['untrained']}, auto with {train_posts} training posts {overall['trained']}")
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fake", action="store_true", help="FakeEmbedder instead of the real model")
    parser.add_argument("--train-posts", type=int, default=120)
    parser.add_argument("--seed", type=int, default=2015)
    parser.add_argument("--test-share", type=float, default=0.5)
    args = parser.parse_args()
    from flows.embed.models import FakeEmbedder, load_embedder

    embedder = FakeEmbedder() if args.fake else load_embedder("minilm")
    out = run(embedder, args.train_posts, args.seed, args.test_share)
    figures = report(out, args.train_posts)
    print(json.dumps(figures, sort_keys=True))


if __name__ == "__main__":
    main()
