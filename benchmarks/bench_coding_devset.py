"""Machine coding measured on the hand-coded dev set (../shared/devset), authors held out.

    .venv/bin/python benchmarks/bench_coding_devset.py [--fake] [--folds 5] [--boot 1000]
        [--methods rules,semantic,...] [--sizes 30,60,120,240] [--finetune]

300 invented #MedTwitter posts by 50 accounts, each coded by hand under the ``chretien2015``
codes (the dev set's README states the coding rules). Machine coding is judged on a different
hand-coded set, so these figures guide; they are not the judgement.

Design, so the figures do not flatter:

- The 50 authors are dealt (seeded) into ``--folds`` folds. Every method is scored on the same
  folds: a post's machine code comes from a method that saw none of its author's posts.
- Zero-shot methods learn nothing from the dev set; they are scored on all 300 posts.
- Trained methods, for each size n in ``--sizes``: per fold, n posts drawn (seeded) from the
  other folds' authors are the "human-coded" training posts; 240 means all of them (about 240).
- Per code, Cohen's kappa over the 300 out-of-fold codes, with a 95% interval from a bootstrap
  that resamples authors (``flows.coding.evaluate.kappa_ci``); macro = mean over the 7 codes.
- ``logreg`` (logistic regression on frozen vectors plus the codebook's rows) is the reference of
  the variants that did not help and are kept to show it: ``logreg-noexamples`` (no codebook
  rows), ``logreg+selftrain`` (pseudo-labelled unlabelled posts), ``logreg+roles`` (the author's
  role as features) and ``--finetune``'s tuned vectors.
- The baseline, taken in the same run, is ``rules`` (the codebook's keyword rules alone).
- Active learning (``--active``): per fold, the same seeded 30 random posts, then rounds drawn
  by ``flows.coding.active`` (``uncertain``, ``diverse``) or at random from the fold's training
  pool; reported: macro kappa after each round and the fewest posts that reach random's at 120.

Ends with one JSON line of the figures.
"""

from __future__ import annotations

import argparse
import copy
import json
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DEVSET = ROOT.parent / "shared" / "devset"
SIZES = (30, 60, 120, 240)


def load_devset(embed, devset: Path = DEVSET):
    """The dev set as :class:`flows.coding.evaluate.Posts` (sorted by id), with its codes."""
    from flows.coding.codebook import assignable_codes, resolve_codebook
    from flows.coding.evaluate import Posts, doc_text

    rows = sorted((json.loads(line) for line in (devset / "dev_tweets.jsonl").read_text().splitlines()
                   if line.strip()), key=lambda r: r["id"])
    codes = [c.id for c in assignable_codes(resolve_codebook("chretien2015"))]
    docs = [doc_text(r["text"]) for r in rows]
    labels = {c: np.array([int(c in r["codes"]) for r in rows]) for c in codes}
    return Posts([r["text"] for r in rows], docs, embed(docs),
                 np.array([r["author_handle"] for r in rows], dtype=object), labels), rows


def methods(codebook, embed, model_id: str, seed: int, posts, roles: dict) -> dict[str, tuple[bool, object]]:
    """Every method: name -> (trained?, factory). ``posts``: the dev set (its vectors are the corpus
    self-training reads); ``roles``: author -> role (the dev set's)."""
    from flows.coding.methods import AutoMethod, ExamplesMethod, LogregMethod, RulesMethod, SemanticMethod

    return {
        "rules": (False, lambda: RulesMethod(codebook)),
        "semantic": (False, lambda: SemanticMethod(codebook, embed, model_id)),
        "auto": (False, lambda: AutoMethod(codebook, embed, model_id, seed=seed)),
        "semantic+calibrated": (True, lambda: SemanticMethod(codebook, embed, model_id, calibrate=True)),
        "supervised": (True, lambda: AutoMethod(codebook, embed, model_id, seed=seed, source="supervised")),
        "auto+trained": (True, lambda: AutoMethod(codebook, embed, model_id, seed=seed)),
        "examples-knn": (False, lambda: ExamplesMethod(codebook, embed, model_id)),
        "logreg": (True, lambda: LogregMethod(codebook, embed, model_id, seed=seed)),
        "logreg-noexamples": (True, lambda: LogregMethod(codebook, embed, model_id, seed=seed,
                                                         example_weight=0.0)),
        "logreg+selftrain": (True, lambda: SelfTrainMethod(codebook, embed, model_id, posts.vectors, seed=seed)),
        "logreg+roles": (True, lambda: RolesMethod(codebook, embed, model_id, roles, seed=seed)),
    }


class FinetuneMethod:
    """SetFit's recipe without the setfit package: per fold, a copy of the bundled MiniLM is tuned
    contrastively on pairs from the training posts' codes (for each post with a code, ``r`` pairs with
    another post with it -> 1 and ``r`` with a post without it -> 0; cosine-similarity MSE loss, one
    epoch, AdamW 2e-5, seeded), then ``LogregMethod`` runs on the tuned embeddings. Only with
    ``--finetune``: about 10 minutes per fold on this busy 2-core machine."""

    def __init__(self, codebook, base, model_id, *, seed=0, pairs_per_positive=4, lr=2e-5, batch=16, epochs=1):
        self.codebook, self.base, self.model_id, self.seed = codebook, base, model_id, seed
        self.r, self.lr, self.batch, self.epochs = pairs_per_positive, lr, batch, epochs
        self.inner = None

    def _pairs(self, docs, labels):
        rng = np.random.default_rng(self.seed)
        out = []
        for _code, y in sorted(labels.items()):
            pos, neg = np.flatnonzero(y == 1), np.flatnonzero(y == 0)
            if len(pos) < 2 or not len(neg):
                continue
            for i in pos:
                for _ in range(self.r):
                    j, k = rng.choice(pos[pos != i]), rng.choice(neg)
                    out += [(docs[i], docs[j], 1.0), (docs[i], docs[k], 0.0)]
        order = rng.permutation(len(out))
        return [out[i] for i in order]

    def fit(self, train):
        import torch

        from flows.coding.methods import LogregMethod

        torch.manual_seed(self.seed)
        model = copy.deepcopy(self.base.model)
        model.train()
        pairs = self._pairs(train.docs, train.labels)
        opt = torch.optim.AdamW(model.parameters(), lr=self.lr)
        for _ in range(self.epochs):
            for s in range(0, len(pairs), self.batch):
                chunk = pairs[s:s + self.batch]
                a = model(encode_inputs(model, [p[0] for p in chunk]))["sentence_embedding"]
                b = model(encode_inputs(model, [p[1] for p in chunk]))["sentence_embedding"]
                target = torch.tensor([p[2] for p in chunk])
                loss = torch.nn.functional.mse_loss(torch.cosine_similarity(a, b), target)
                opt.zero_grad()
                loss.backward()
                opt.step()
        model.eval()
        cache = {}

        def embed(texts):
            missing = [t for t in dict.fromkeys(texts) if t not in cache]
            if missing:
                v = model.encode(missing, batch_size=64, normalize_embeddings=True, convert_to_numpy=True)
                cache.update(zip(missing, v))
            return np.stack([cache[t] for t in texts]) if texts else np.zeros((0, 384), np.float32)

        self.embed = embed
        self.inner = LogregMethod(self.codebook, embed, self.model_id + "+ft", seed=self.seed)
        self.inner.fit(replace(train, vectors=embed(train.docs)))

    def predict(self, posts):
        return self.inner.predict(replace(posts, vectors=self.embed(posts.docs)))


class SelfTrainMethod:
    """Did not help (kept to show it): logistic regression as ``LogregMethod``, then refitted with
    the corpus's unlabelled posts that it scores at ``p >= hi`` or ``p <= 1 - hi`` as extra rows
    (pseudo-labels, weight ``w``); each code keeps the threshold cross-validated before the refit.
    ``corpus``: the vectors of every post to be coded."""

    def __init__(self, codebook, embed, model_id, corpus, *, seed=0, hi=0.75, w=0.5):
        from flows.coding.methods import LogregMethod

        self.inner = LogregMethod(codebook, embed, model_id, seed=seed)
        self.corpus, self.hi, self.w = corpus, hi, w

    def fit(self, train):
        inner = self.inner
        inner.fit(train)
        for code_id, model in list(inner.models.items()):
            p = model.predict_proba(self.corpus)[:, 1]
            pos, neg = self.corpus[p >= self.hi], self.corpus[p <= 1 - self.hi]
            pseudo = (np.vstack([pos, neg]), np.r_[np.ones(len(pos)), np.zeros(len(neg))], self.w)
            inner.models[code_id] = inner._fit_one(code_id, train.vectors, train.labels[code_id].astype(int), pseudo)

    def predict(self, posts):
        return self.inner.predict(posts)


class RolesMethod:
    """Did not help (kept to show it): ``LogregMethod`` with the author's role (the dev set's own
    label, student/resident/faculty, so better than any inferred role) as one-hot features times
    ``scale``; the codebook's rows get zeros there."""

    def __init__(self, codebook, embed, model_id, roles: dict, *, seed=0, scale=0.3):
        from flows.coding.methods import LogregMethod

        self.kinds = sorted(set(roles.values()))
        self.roles, self.scale = roles, scale
        self.inner = LogregMethod(codebook, embed, model_id, seed=seed)
        pad = lambda v: np.hstack([v, np.zeros((len(v), len(self.kinds)), v.dtype)])  # noqa: E731
        self.inner.sets = {c: (pad(own), pad(other)) for c, (own, other) in self.inner.sets.items()}

    def _with_roles(self, posts):
        onehot = np.array([[self.scale * (self.roles[a] == k) for k in self.kinds] for a in posts.authors],
                          dtype=posts.vectors.dtype).reshape(len(posts), len(self.kinds))
        return replace(posts, vectors=np.hstack([posts.vectors, onehot]))

    def fit(self, train):
        self.inner.fit(self._with_roles(train))

    def predict(self, posts):
        return self.inner.predict(self._with_roles(posts))


def encode_inputs(model, texts):
    """Tokenised inputs for ``model``: ``tokenize`` (what the figures were measured with; newer
    sentence-transformers deprecate it for ``preprocess``)."""
    return (model.tokenize if hasattr(model, "tokenize") else model.preprocess)(texts)


def _sampler(n: int, seed: int):
    def rows(pool: np.ndarray, fold: int) -> np.ndarray:
        if n >= len(pool):
            return pool
        rng = np.random.default_rng([seed, fold, n])
        return np.sort(rng.choice(pool, size=n, replace=False))
    return rows


def evaluate(posts, folds, registry, sizes, n_boot: int, seed: int, log=print) -> dict:
    from flows.coding.evaluate import cross_validate, macro, per_code

    results = {}
    for name, (trained, make) in registry.items():
        started = time.perf_counter()
        if not trained:
            method = make()
            method.fit(posts.take([]))
            runs = {"zero": method.predict(posts)}
        else:
            runs = {str(n): cross_validate(make, posts, folds, train_rows=_sampler(n, seed)) for n in sizes}
        seconds = round(time.perf_counter() - started, 1)
        results[name] = {}
        for key, outputs in runs.items():
            figures = per_code(outputs, posts, n_boot=n_boot, seed=seed)
            results[name][key] = {"macro": macro(figures), "per_code": figures}
        results[name]["seconds"] = seconds
        log(f"  {name:<24}" + "  ".join(f"{k}: {v['macro']:.3f}" for k, v in results[name].items()
                                        if k != "seconds") + f"   ({seconds} s)")
    return results


def active_curve(posts, folds, make, strategies, seed: int, sizes, n_boot: int) -> dict:
    """Macro kappa on the held-out folds after each round of ``sizes`` posts, per strategy.

    Every strategy starts each fold from the same seeded random first round; later rounds are
    drawn from the fold's training pool by ``flows.coding.active.pick`` on the current model
    (``random``: a seeded simple random draw, the stratified strategy with no strata).
    """
    from flows.coding.active import pick, uncertainty
    from flows.coding.evaluate import macro, per_code

    n, found = len(posts), {}
    for strategy in strategies:
        outs = {size: {} for size in sizes}
        for f, test in enumerate(folds):
            pool = np.setdiff1d(np.arange(n), test)
            rng = np.random.default_rng([seed, f])
            chosen = sorted(rng.choice(pool, sizes[0], replace=False).tolist())
            for k, size in enumerate(sizes):
                method = make()
                method.fit(posts.take(chosen))
                for code_id, (values, _) in method.predict(posts.take(test)).items():
                    outs[size].setdefault(code_id, (np.zeros(n, dtype=int), np.zeros(n)))[0][test] = values
                if k + 1 == len(sizes):
                    break
                step, left = sizes[k + 1] - size, np.setdiff1d(pool, chosen)
                if strategy == "random":
                    new = rng.choice(left, step, replace=False)
                else:
                    scores = {c: s for c, (_, s) in method.predict(posts.take(left)).items()}
                    unsure = uncertainty(scores, method.thresholds)
                    new = left[pick(strategy, step, seed + size, posts.vectors[left], unsure)]
                chosen = sorted([*chosen, *map(int, new)])
        found[strategy] = {str(s): macro(per_code(outs[s], posts, n_boot=n_boot, seed=seed)) for s in sizes}
    return found


def posts_to_reach(curves: dict, target_size: int = 120) -> dict:
    """Per strategy, the fewest coded posts whose macro kappa reaches random's at ``target_size``."""
    target = curves["random"][str(target_size)]
    return {s: next((int(k) for k, v in c.items() if v >= target), None) for s, c in curves.items()}


def report(results: dict, codes: list[str], positives: dict[str, int]) -> None:
    print("\nPer code: kappa [95% author-bootstrap interval]; n = training posts (zero = no training)")
    print(f"  {'method':<24}{'n':>5}  " + "".join(f"{c[:13]:>20}" for c in codes) + f"{'MACRO':>8}")
    print(f"  {'(positives)':<24}{'':>5}  " + "".join(f"{positives[c]:>20}" for c in codes))
    for name, runs in results.items():
        for key, r in runs.items():
            if key == "seconds":
                continue
            cells = []
            for c in codes:
                f = r["per_code"][c]
                ci = "" if f["ci"] is None else f" [{f['ci'][0]:.2f},{f['ci'][1]:.2f}]"
                cells.append(f"{(f['kappa'] or 0):.2f}{ci}")
            print(f"  {name:<24}{key:>5}  " + "".join(f"{c:>20}" for c in cells) + f"{r['macro']:>8.3f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fake", action="store_true", help="FakeEmbedder instead of the bundled MiniLM")
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--boot", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=2015)
    parser.add_argument("--methods", default="", help="comma-separated subset of the methods")
    parser.add_argument("--sizes", default=",".join(map(str, SIZES)))
    parser.add_argument("--finetune", action="store_true",
                        help="add the contrastive fine-tune of MiniLM (SetFit's recipe; ~10 min per fold and size)")
    parser.add_argument("--active", default="30,60,90,120",
                        help="round sizes of the active-learning comparison ('' to skip it)")
    args = parser.parse_args()
    if not (DEVSET / "dev_tweets.jsonl").is_file():
        print(f"skipped: the dev set is not at {DEVSET} (../shared/devset beside the repository)")
        print(json.dumps({"skipped": "no dev set"}))
        return
    from flows.coding.codebook import resolve_codebook
    from flows.coding.evaluate import author_folds
    from flows.embed.models import FakeEmbedder, load_embedder

    embedder = FakeEmbedder() if args.fake else load_embedder("minilm")
    cache: dict[str, np.ndarray] = {}

    def embed(texts):
        missing = [t for t in dict.fromkeys(texts) if t not in cache]
        if missing:
            cache.update(zip(missing, embedder.encode(missing)))
        return np.stack([cache[t] for t in texts]) if texts else np.zeros((0, embedder.dim), np.float32)

    started = time.perf_counter()
    codebook = resolve_codebook("chretien2015")
    posts, rows = load_devset(embed)
    folds = author_folds(posts.authors, args.folds, args.seed)
    roles = {r["author_handle"]: r["author_role"] for r in rows}
    registry = methods(codebook, embed, embedder.model_id, args.seed, posts, roles)
    if args.finetune and not args.fake:
        registry["finetune"] = (True, lambda: FinetuneMethod(codebook, embedder, embedder.model_id, seed=args.seed))
    if args.methods:
        registry = {k: v for k, v in registry.items() if k in args.methods.split(",")}
    sizes = [int(s) for s in args.sizes.split(",") if s]
    print(f"dev set: {len(posts)} posts, {len(set(posts.authors))} authors, {args.folds} author folds; "
          f"model {embedder.model_id}; codebook chretien2015 {codebook.version}\nmacro kappa:")
    results = evaluate(posts, folds, registry, sizes, args.boot, args.seed)
    codes = list(posts.labels)
    positives = {c: int(y.sum()) for c, y in posts.labels.items()}
    report(results, codes, positives)
    base = results.get("rules", {}).get("zero", {}).get("macro")
    best = {name: max(v["macro"] for k, v in r.items() if k != "seconds") for name, r in results.items()}
    if base:
        print("\nbest macro kappa / rules' macro kappa: " +
              ", ".join(f"{n} {b / base:.2f}x" for n, b in best.items()))
    active, reach = {}, {}
    rounds = [int(s) for s in args.active.split(",") if s]
    if rounds:
        from flows.coding.methods import LogregMethod

        # no inner cross-validation here (threshold 0.5 of the class-balanced model): the curve
        # needs 3 strategies x folds x rounds fits, and the comparison is within one model
        make = lambda: LogregMethod(codebook, embed, embedder.model_id, seed=args.seed, cv=False)  # noqa: E731
        active = active_curve(posts, folds, make, ("random", "uncertain", "diverse"), args.seed, rounds, args.boot)
        reach = posts_to_reach(active, 120) if "120" in active["random"] else {}
        print("\nactive learning (logistic regression on embeddings + codebook rows, threshold 0.5), macro kappa "
              "after each round:")
        for strategy, curve in active.items():
            print(f"  {strategy:<10}" + "  ".join(f"{k}: {v:.3f}" for k, v in curve.items())
                  + (f"   reaches random@120 with {reach.get(strategy)} posts" if reach else ""))
    seconds = round(time.perf_counter() - started, 1)
    print(f"wall time {seconds} s")
    print(json.dumps({"model": embedder.model_id, "codebook_version": codebook.version,
                      "folds": args.folds, "sizes": sizes, "positives": positives,
                      "seconds": seconds, "methods": results, "active": active,
                      "posts_to_reach_random120": reach}, sort_keys=True))


if __name__ == "__main__":
    main()
