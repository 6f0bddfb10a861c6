"""Run the machine coders over the corpus, incrementally, and combine them into ``auto``.

Coders and their names in ``code_assignments``:

- ``auto:rules`` (:mod:`flows.coding.rules`), always;
- ``auto:semantic`` (:mod:`flows.coding.semantic`), when an embedder is given;
- ``auto:supervised`` (:mod:`flows.coding.supervised`), when an embedder is given and there
  are human codes to learn from: the coders of ``train_from``, else ``consensus`` if it has
  coded this codebook version, else none;
- ``auto``, the decision reports and exports use. Per code it takes one *source*:
  ``rules``, ``semantic``, ``rules+semantic`` (either says present) or ``supervised``.
  With human codes to learn from, the source is the one with the highest Cohen's kappa
  against those codes: the supervised model's out-of-fold kappa (cross-validated by author),
  the rules' kappa on the labelled posts, and the semantic ones' with their threshold
  calibrated on the same posts (one parameter per code; slightly optimistic). Ties go to the
  simpler source (in the order above). Without human codes (or with fewer than 5 posts coded
  present, or absent, for the code): ``rules+semantic`` when the
  codebook says the code's rules are not enough (``rule_coverage`` ``partial`` or
  ``semantic``), else ``rules`` (an uncalibrated threshold never overrides a codebook that
  claims its rules suffice); ``rules`` alone without an embedder. The choice, with the
  kappas behind it, is stored in ``coder_models`` under the ``auto`` batch. The score is the
  chosen source's score (supervised probability, semantic score, rule hits; ``rules+semantic``
  gives 1.0 where a rule matched, else the semantic score).

New or changed: each coder's batch id is the sha256 of its coder name, the codebook's content
hash and its configuration (method version, model id, thresholds, training coders and a digest
of the training labels). A post is (re-)coded when some coder has no row for it under its
current batch id with the post's current text hash; then every coder codes it again. A changed
configuration (new human codes, a recalibrated threshold, a new model) re-codes every post.
"""

from __future__ import annotations

from typing import Any

import duckdb
import numpy as np
import pandas as pd

from flows.coding import gate
from flows.coding.codebook import Code, Codebook, assignable_codes
from flows.coding.methods import _labelled_outputs, _supervised_outputs, _train, choose, combine
from flows.coding.rules import RulesCoder
from flows.coding.semantic import SemanticCoder
from flows.coding.store import (
    CONSENSUS,
    MACHINE_CODERS,
    CodingError,
    coders_with_codes,
    digest,
    posts_to_code,
    register_codebook,
    replace_assignments,
    values,
    write_batch,
)
from flows.coding.supervised import SupervisedCoder
from flows.store.db import transaction

COMBINED_VERSION = "combined/1"
GATE_VERSION = "gate/1"
METHODS = {"auto:rules": "rules", "auto:semantic": "semantic", "auto:supervised": "supervised",
           "auto": "combined"}


def training_coders(con: duckdb.DuckDBPyConnection, content_hash: str,
                    train_from: list[str] | None) -> list[str]:
    """The human coders to learn from (see the module docstring); checks they have codes."""
    present = coders_with_codes(con, content_hash)
    if not train_from:
        return [CONSENSUS] if CONSENSUS in present else []
    bad = [c for c in train_from if c.startswith("auto") or c not in present]
    if bad:
        people = [c for c in present if not c.startswith("auto")]
        raise CodingError(f"cannot train from {', '.join(bad)}: no human codes under this "
                          f"codebook version; human coders with codes: {', '.join(people) or 'none'}")
    return list(train_from)


def labels(con: duckdb.DuckDBPyConnection, content_hash: str, coders: list[str],
           codes: list[Code]) -> pd.DataFrame:
    """One row per post the coders coded: author, text, and per code the majority value.

    Several coders: a code is present when at least half of the coders who coded the post
    marked it (a split decision counts as present).
    """
    frame = values(con, content_hash, coders)
    table = (frame.groupby(["platform", "post_id", "code_id"])["value"].mean() >= 0.5)
    wide = table.astype(int).unstack("code_id").reindex(columns=[c.id for c in codes])
    posts = con.execute("""SELECT platform, post_id, author_id, coalesce(text, '') AS text
        FROM posts""").df().set_index(["platform", "post_id"])
    out = posts.join(wide.dropna(), how="inner").reset_index()
    out = out.merge(_docs(con), on=["platform", "post_id"], how="left")
    out["doc"] = out["doc"].fillna("")
    return out.sort_values(["platform", "post_id"]).reset_index(drop=True)


def code_corpus(con: duckdb.DuckDBPyConnection, codebook: Codebook, *, embedder: Any = None,
                train_from: list[str] | None = None, seed: int = 0,
                threshold: float = 0.6) -> dict[str, Any]:
    """Code every post with the machine coders, re-coding only what is new or changed.

    Args:
        con: The store.
        codebook: The codebook to code with (registered as its current version).
        embedder: A ``flows.embed`` embedder (``.model_id``, ``.encode``); ``None`` runs the
            rules alone (then ``auto`` is ``auto:rules``).
        train_from: Human coders whose codes calibrate and train the coders.
        seed: Seed of the cross-validation folds and models.
        threshold: The validation gate's threshold on the lower bound of each code's held-out
            kappa against the human codes (:mod:`flows.coding.gate`).

    Returns:
        ``{"codebook", "version", "posts", "coded", "trained_on", "coders", "models", "auto",
        "auto_choice"}``: posts (re-)coded now, out-of-fold metrics per trained code, and the
        source ``auto`` follows per code with the kappas behind the choice (when anything was coded),
        and ``validation``: the gate's verdict per code (see :mod:`flows.coding.gate`).
    """
    if codebook.status == "draft":
        raise CodingError(f"codebook '{codebook.id}' is a draft: machine coders need every code's definition, "
                          "criteria and examples (and a citation); complete it and set 'status: final' "
                          "(human coding rounds work with a draft)")
    h, codes = codebook.content_hash, assignable_codes(codebook)
    with transaction(con):  # first, so that people's codes carry over from the version coded before
        register_codebook(con, codebook)
    trained_on = training_coders(con, h, train_from)
    embed = _embed_fn(con, embedder)
    rules = RulesCoder(codebook, codes)
    semantic, supervised, labelled = None, None, None
    if embed is not None:
        semantic = SemanticCoder(codebook, codes, embed, embedder.model_id)
        if trained_on:
            labelled = labels(con, h, trained_on, codes)
            vectors = embed(labelled["doc"].tolist())
            semantic.calibrate(vectors, {c.id: labelled[c.id].to_numpy() for c in codes}, trained_on)
            supervised = SupervisedCoder({"model": embedder.model_id, "codebook": codebook.codes_hash, "seed": seed,
                                          "trained_on": trained_on, "labels": _label_digest(labelled),
                                          "semantic": semantic.config})
    if trained_on and labelled is None:
        labelled = labels(con, h, trained_on, codes)
    coders = [c for c in (rules, semantic, supervised) if c is not None]
    batches = {c.name: _batch(c.name, codebook.codes_hash, c.config) for c in coders}
    auto_config = {"method": COMBINED_VERSION, "components": dict(batches), "gate": {
        "version": GATE_VERSION, "threshold": threshold, "reference": trained_on}}
    batches["auto"] = _batch("auto", codebook.codes_hash, auto_config)
    todo = _todo(con, h, batches, embed is not None)
    summary = {"codebook": codebook.id, "version": h, "coded": len(todo), "trained_on": trained_on,
               "coders": sorted(batches), "models": {}}
    summary["posts"] = con.execute("SELECT count(*) FROM posts WHERE kind <> 'repost'").fetchall()[0][0]
    if todo.empty:
        with transaction(con):
            register_codebook(con, codebook)  # still makes this version the current one
        summary["validation"] = _stored_verdicts(con, h, codes, trained_on)
        return summary
    texts = todo["text"].tolist()
    counts = {k: np.asarray(v) for k, v in rules.hit_counts(texts).items()}
    outputs = {"auto:rules": rules.score(texts)}
    on_labels, y = None, None
    if labelled is not None:
        y = {c.id: labelled[c.id].to_numpy() for c in codes}
        on_labels = _labelled_outputs(rules, semantic, labelled, embed, seed)
    if semantic is not None:
        vectors = embed(todo["doc"].tolist())
        outputs["auto:semantic"] = semantic.decide(vectors)
        if supervised is not None:
            _train(supervised, on_labels, labelled, codes, seed, rules, embed)
            outputs["auto:supervised"] = _supervised_outputs(supervised, codes, vectors, counts, todo["doc"].tolist())
            summary["models"] = {r["code_id"]: r["metrics"] for r in supervised.models()}
    choice = choose(codes, on_labels, y, supervised, semantic is not None)
    summary["auto"] = {code_id: c["source"] for code_id, c in choice.items()}
    summary["auto_choice"] = choice
    outputs["auto"] = combine(codes, outputs, choice)
    validation = None
    if labelled is not None:
        validation = _validate(codebook, codes, labelled, embed, embedder, seed, threshold)
    frame = _rows(todo, codebook, outputs, batches)
    with transaction(con):
        register_codebook(con, codebook)
        written = {c.name: write_batch(con, c.name, codebook, METHODS[c.name], c.config, key=codebook.codes_hash)
                   for c in coders}
        written["auto"] = write_batch(con, "auto", codebook, "combined", auto_config, key=codebook.codes_hash)
        if written != batches:  # the rows below would point at batches nobody can look up
            raise RuntimeError("batch ids changed between planning and writing")
        _write_models(con, batches, semantic, supervised)
        _write_choice(con, batches["auto"], choice)
        stale = [m for m in MACHINE_CODERS if m not in batches]
        con.execute("DELETE FROM code_assignments WHERE content_hash = ? AND list_contains(?, coder)",
                    [h, stale])
        replace_assignments(con, frame)
        con.execute("DELETE FROM code_validation WHERE content_hash = ? AND coder = 'auto'", [h])
        if validation is not None:
            gate.write(con, codebook.id, h, "auto", trained_on, validation)
    summary["validation"] = _stored_verdicts(con, h, codes, trained_on)
    return summary


def _stored_verdicts(con: duckdb.DuckDBPyConnection, content_hash: str, codes: list[Code],
                     trained_on: list[str]) -> dict[str, dict[str, Any]]:
    if not trained_on:
        return {}
    found = gate.verdicts(con, content_hash, [c.id for c in codes])
    return {k: {"validated": bool(v["validated"]), "kappa": v["kappa"], "ci": [v["ci_low"], v["ci_high"]],
                "reason": v["reason"]} for k, v in found.items()}


def _validate(codebook: Codebook, codes: list[Code], labelled: pd.DataFrame, embed, embedder: Any,
              seed: int, threshold: float) -> dict[str, dict[str, Any]]:
    """The gate: ``auto`` as built here, cross-validated by author over the human-coded posts."""
    from flows.coding.evaluate import Posts
    from flows.coding.methods import AutoMethod, RulesMethod

    docs = labelled["doc"].tolist()
    vectors = embed(docs) if embed is not None else np.zeros((len(docs), 1), dtype=np.float32)
    posts = Posts(labelled["text"].tolist(), docs, vectors, labelled["author_id"].fillna("").to_numpy(dtype=object),
                  {c.id: labelled[c.id].to_numpy().astype(int) for c in codes})
    if embed is None:
        return gate.validate(lambda: RulesMethod(codebook), posts, threshold=threshold, seed=seed)
    return gate.validate(lambda: AutoMethod(codebook, embed, embedder.model_id, seed=seed), posts,
                         threshold=threshold, seed=seed)


def _docs(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """The text embedded for each post (``flows.embed.post_docs``: URLs and leading @mentions
    removed), shared with the topic stage's embedding cache; rules read the raw text."""
    from flows.embed.cache import post_docs

    return post_docs(con).select("platform, post_id, doc").df()


def _embed_fn(con: duckdb.DuckDBPyConnection, embedder: Any):
    if embedder is None:
        return None
    from flows.embed.cache import embed_texts

    return lambda texts: np.asarray(embed_texts(con, embedder, list(texts)), dtype=np.float32)


def _batch(coder: str, content_hash: str, config: dict[str, Any]) -> str:
    method = METHODS[coder]
    return digest({"coder": coder, "codebook": content_hash, "method": method, "config": config})


def _label_digest(labelled: pd.DataFrame) -> str:
    cols = [c for c in labelled.columns if c not in ("author_id", "text", "doc")]
    return digest(labelled[cols].astype(str).values.tolist())


def _todo(con: duckdb.DuckDBPyConnection, content_hash: str, batches: dict[str, str],
          with_docs: bool) -> pd.DataFrame:
    """Posts any coder still has to code, as one frame sorted by platform and post id."""
    parts = [posts_to_code(con, coder, content_hash, batch) for coder, batch in batches.items()]
    todo = pd.concat(parts).drop_duplicates(["platform", "post_id"])
    if with_docs and not todo.empty:
        todo = todo.merge(_docs(con), on=["platform", "post_id"], how="left")
        todo["doc"] = todo["doc"].fillna("")
    return todo.sort_values(["platform", "post_id"]).reset_index(drop=True)


def _rows(todo: pd.DataFrame, codebook: Codebook, outputs: dict[str, dict[str, tuple]],
          batches: dict[str, str]) -> pd.DataFrame:
    parts = []
    for coder, per_code in outputs.items():
        for code_id, (vals, scores) in per_code.items():
            parts.append(pd.DataFrame({
                "platform": todo["platform"], "post_id": todo["post_id"],
                "codebook_id": codebook.id, "content_hash": codebook.content_hash,
                "code_id": code_id, "coder": coder, "value": np.asarray(vals, dtype="int8"),
                "score": np.asarray(scores, dtype=float), "text_sha256": todo["text_sha256"],
                "batch_id": batches[coder]}))
    return pd.concat(parts, ignore_index=True)


def _write_choice(con: duckdb.DuckDBPyConnection, batch: str,
                  choice: dict[str, dict[str, Any]]) -> None:
    import json

    con.execute("DELETE FROM coder_models WHERE batch_id = ?", [batch])
    con.executemany("INSERT INTO coder_models VALUES (?, ?, NULL, NULL, 0, 0, ?)",
                    [[batch, code_id, json.dumps(c)] for code_id, c in choice.items()])


def _write_models(con: duckdb.DuckDBPyConnection, batches: dict[str, str],
                  semantic: SemanticCoder | None, supervised: SupervisedCoder | None) -> None:
    import json

    for coder in (semantic, supervised):
        if coder is None:
            continue
        batch = batches[coder.name]
        con.execute("DELETE FROM coder_models WHERE batch_id = ?", [batch])
        con.executemany("INSERT INTO coder_models VALUES (?, ?, ?, ?, ?, ?, ?)", [
            [batch, r["code_id"], r["threshold"], r["calibrated_on"], r["n_labelled"],
             r["n_positive"], None if r["metrics"] is None else json.dumps(r["metrics"])]
            for r in coder.models()])
