"""Section 6, Methods: a generated methods text a researcher can adapt, and the provenance block.

Every sentence is built from what the store records (sources, roles, selection criteria,
codebook versions, coder configurations, topic run settings) and what the other sections
found, so it stays true when the data change.
"""

from __future__ import annotations

import json

from flows.report.context import Context
from flows.report.doc import KeyValues, Paragraph, Section, pct
from flows.report.reads import rows
from flows.report.topic_outliers import threshold_text

PLATFORMS = {"twitter": "Twitter/X", "bluesky": "Bluesky"}
KINDS = (("original", "originals"), ("reply", "replies"), ("quote", "quotes"), ("repost", "reposts"))
CODER_TEXT = {
    "rules": "keyword, hashtag and pattern rules written into the codebook",
    "semantic": "a logistic regression per code on embeddings ({model}) of the codebook's definition, criteria and "
                "examples against its near misses and the other codes' examples, with a threshold per code",
    "supervised": "a logistic regression per code trained on the human codes (with the codebook's texts as extra, "
                  "down-weighted rows) over embeddings ({model}), rule hits and character 3-5-grams (TF-IDF), its "
                  "threshold chosen by cross-validation by author",
}


def build(ctx: Context, provenance: dict) -> Section:
    """The methods section: paragraphs to adapt, then the provenance block."""
    section = Section("methods", "Methods")
    texts = [_corpus(ctx), _inclusion(ctx), _accounts(ctx), _coding(ctx), _topics(ctx), _statistics(ctx),
             _software(provenance)]
    section.blocks += [Paragraph(t) for t in texts if t]
    section.blocks.append(KeyValues("Provenance", _provenance_items(ctx, provenance)))
    return section


def _corpus(ctx: Context) -> str:
    corpus, sources = ctx.facts.get("corpus") or {}, ctx.facts.get("sources")
    if not corpus.get("posts"):
        return "No posts had been ingested when this report was generated."
    kinds = ctx.facts.get("kinds", {})
    parts = ", ".join(f"{kinds.get(k, 0):,} {label}" for k, label in KINDS)
    platforms = [r["platform"] for r in rows(ctx.con, "SELECT DISTINCT platform FROM report_posts ORDER BY platform")]
    formats = [r["format"] for r in rows(ctx.con, "SELECT DISTINCT format FROM report_sources ORDER BY format")]
    langs = ", ".join(f"{lang} {pct(n, corpus['posts']):.1f}%" for lang, n in ctx.facts.get("languages", []))
    text = (f"We analysed {corpus['posts']:,} posts ({parts}) by {corpus['accounts']:,} accounts on "
            f"{' and '.join(PLATFORMS.get(p, p) for p in platforms)}, dated {corpus['first'].date()} to "
            f"{corpus['last'].date()} (UTC). ")
    if sources:
        files = f"{sources['files']:,} file{'s' if sources['files'] != 1 else ''}"
        text += (f"They were collected in {files} ({', '.join(formats)}) and ingested with ethnoflow, "
                 "which keeps every raw record as collected and normalises both platforms into one table; "
                 f"{sources['duplicates']:,} records repeating a stored post were merged into it and "
                 f"{sources['rejected']:,} records that were not posts were set aside with their reason. ")
    return text + (f"Languages as recorded: {langs}." if langs else "")


def _inclusion(ctx: Context) -> str:
    rules = ctx.study.get("inclusion")
    if not rules:
        return ("Every ingested post was analysed: no inclusion rules (date window, languages, platforms) were "
                "recorded in a study file.")
    listed = "; ".join(f"{k.replace('_', ' ')}: {json.dumps(v, sort_keys=True, default=str)}"
                       for k, v in sorted(rules.items()))
    return f"Inclusion rules from the study file: {listed}."


def _accounts(ctx: Context) -> str:
    methods = ctx.facts.get("role_methods", {})
    named = {"rule": "rules on bios and display names", "embedding": "the nearest role description by embedding "
             "similarity", "override": "the researchers' own assignments", "default": "no evidence ('unknown')"}
    roles = "; ".join(f"{methods[m]:,} by {named[m]}" for m in ("override", "rule", "embedding", "default")
                      if methods.get(m))
    text = ("Each account was given a role (student, resident, faculty, health professional, organization, "
            f"other): {roles}. " if roles else "Account roles had not been assigned. ")
    criteria = ctx.facts.get("criteria")
    if criteria:
        text += (f"Superusers were selected with criteria modelled on Chretien et al. (2015): {criteria['sentence']}; "
                 f"{criteria['selected']:,} of {criteria['candidates']:,} candidate accounts met all of them.")
    else:
        text += "No superuser selection had been made; code tables count every account's posts."
    return text


def _coding(ctx: Context) -> str | None:
    books = ctx.facts.get("codebooks", [])
    if not books:
        return None
    names = "; ".join(f"{b.title} ({b.id} version {b.version}, sha256 {b.content_hash[:12]})" for b in books)
    text = f"Posts (reposts excluded) were coded with {names}. "
    batches = rows(ctx.con, "SELECT coder, codebook_id, method, config FROM report_batches "
                            "ORDER BY codebook_id, coder, batch_id")
    methods = {}
    for b in batches:
        config = json.loads(b["config"])
        if b["method"] in CODER_TEXT:
            methods.setdefault(b["method"], CODER_TEXT[b["method"]].format(model=config.get("model", "?")))
    if methods:
        text += "Machine coding combined " + "; ".join(methods.values()) + ". "
    choice = rows(ctx.con, """SELECT codebook_id, code_id, metrics FROM report_coder_models WHERE coder = 'auto'
        ORDER BY codebook_id, code_id""")
    if choice:
        sources = sorted({json.loads(c["metrics"])["source"] for c in choice if c["metrics"]})
        text += (f"The combined decision ('auto') followed, per code, one of {', '.join(sources)}: the source agreeing "
                 "best with human codes where there were enough of them, else the codebook's stated rule coverage. ")
    text += _gate(ctx)
    people = sorted({b["coder"] for b in batches if b["method"] == "human" and b["coder"] != "consensus"})
    rounds = rows(ctx.con, "SELECT codebook_id, n, seed, strata, eligible FROM report_rounds ORDER BY codebook_id, "
                           "round_id")
    if people:
        consensus = any(b["coder"] == "consensus" for b in batches)
        text += f"Human coders: {', '.join(people)}{' (and their consensus)' if consensus else ''}. "
    for r in rounds:
        text += (f"A coding round drew {r['n']:,} of {r['eligible']:,} eligible posts for {r['codebook_id']} "
                 f"(seed {r['seed']}, strata: {r['strata'] or 'none'}). ")
    return text.strip()


def _gate(ctx: Context) -> str:
    """The validation gate in words: which codes' values are findings, which are not, and why."""
    found = ctx.facts.get("validation") or {}
    coder = ctx.settings.coder
    if not found or not coder.startswith("auto"):
        return f"The results count the codes of {coder} (human coding). " if found else ""
    text = (f"The results count the machine codes of '{coder}'. Before a machine code counts as a finding it must "
            "pass a validation gate: its Cohen's kappa against the human reference on held-out authors (the whole "
            "coding procedure cross-validated by author folds), whose 95% author-bootstrap interval's lower bound "
            "must reach the study's threshold. ")
    for book_id, verdicts in sorted(found.items()):
        leaves = {k: v for k, v in verdicts.items() if "reason" in v}
        good = [f"{k} ({v['reason']})" for k, v in leaves.items() if v["status"] == "validated"]
        bad = [f"{k} ({v['reason']})" for k, v in leaves.items() if v["status"] != "validated"]
        if good:
            text += f"{book_id}: validated: {'; '.join(good)}. "
        if bad:
            text += (f"{book_id}: NOT VALIDATED, so their machine values are not findings and only human-coded "
                     f"posts are evidence for them: {'; '.join(bad)}. ")
    return text


def _corpus_words(s: dict) -> str:
    words = s.get("corpus_words") or []
    return (f", nor the words in more than {s['max_df']:.0%} of the posts ({', '.join(words)})" if words else "")


def _topics(ctx: Context) -> str | None:
    run = ctx.facts.get("topic_run")
    if not run:
        return None
    s = json.loads(run["settings"]) | json.loads(run.get("resolved") or "{}")
    versions = json.loads(run["versions"])
    vocabulary = (f" Keywords are phrases of 1 to {s['ngram_range'][1]} words found in at least {s['min_df']} posts, "
                  f"without handles, links, numbers or the stop words (stopwords-iso) of "
                  f"{', '.join(s['languages'])}{_corpus_words(s)}; a topic's label is 2 to 4 distinct words "
                  "of its keywords, unlike any other topic's." if "languages" in s else "")
    sample = (f" The model was fitted on a sample of {s['fitted_posts']:,} of the {s['selected_posts']:,} posts "
              "(stratified by month and language, seeded); the others were assigned to the topic of their "
              "nearest fitted posts." if s.get("selected_posts", 0) > s.get("fitted_posts", 0) else "")
    return (f"Topics were modelled with {run['backend']} (run {run['run_id']}) on embeddings from {run['model_id']} "
            f"of each post's text ({run['text_rule']}), kinds {', '.join(s.get('kinds', []))}, seed {s.get('seed')}, "
            f"minimum topic size {s.get('min_topic_size')}, UMAP with {s.get('n_neighbors')} neighbours and "
            f"{s.get('n_components')} components, {s.get('top_n_words')} keywords per topic "
            f"({s.get('representation', 'c-tf-idf')}), outlier reduction '{s.get('reduce_outliers')}' "
            f"(similarity {threshold_text(s, s)}), guidance '{s.get('guidance')}'.{vocabulary}{sample} "
            "Recorded versions: " + ", ".join(f"{k} {v}" for k, v in sorted(versions.items())) + ".")


def _statistics(ctx: Context) -> str:
    agreement = ctx.facts.get("agreement")
    text = ("Code frequencies are the number and percentage of coded posts showing each code and the number and "
            "percentage of accounts with at least one such post; a domain counts a post when any of its codes is "
            "present. ")
    if agreement:
        text += ("Inter-rater agreement per code: pairwise percent agreement, Cohen's kappa (two coders), Fleiss' "
                 "kappa and Gwet's AC1 (any number of coders; with missing ratings, Gwet's 2014 generalisation) "
                 "and Krippendorff's alpha (nominal), with 95% percentile bootstrap intervals over posts "
                 f"({ctx.settings.n_boot:,} resamples, seed {ctx.seed}); machine coders against the human reference: "
                 "Cohen's kappa, precision, recall and F1 per code and their unweighted mean.")
    else:
        text += "No human coding was available, so no agreement statistics were computed."
    return text


def _software(provenance: dict) -> str:
    soft = provenance["software"]
    listed = ", ".join(f"{k} {v}" for k, v in soft.items() if v != "not installed")
    commit = provenance.get("git_commit")
    return f"Software: {listed}" + (f"; ethnoflow code at commit {commit}" if commit else "") + "."


def _provenance_items(ctx: Context, provenance: dict) -> list[tuple[str, str]]:
    study, inputs = provenance["study"], provenance["inputs"]
    items = [("study", study["name"]), ("study title", study["title"]),
             ("study file sha256", study.get("hash") or "none (no study file)"), ("seed", str(ctx.seed)),
             ("database", provenance["database"]), ("report format", provenance["format"]),
             ("report settings sha256", provenance["settings_sha256"]),
             ("source files", f"{inputs['sources']['count']:,} (sha256 of their list "
                              f"{inputs['sources']['sha256_of_list'][:16]})")]
    items += [(f"codebook {c['codebook_id']}", f"version {c['version']}, sha256 {c['content_hash']}")
              for c in inputs["codebooks"]]
    items += [(f"topic run {r['run_id']}", f"{r['backend']}, {r['model_id']}, input sha256 {r['input_hash'][:16]}")
              for r in inputs["topic_runs"]]
    if inputs["superuser_criteria_sha256"]:
        items.append(("superuser criteria sha256", inputs["superuser_criteria_sha256"]))
    items.append(("ethnoflow", f"{provenance['software'].get('ethnoflow')}"
                               + (f" (commit {provenance['git_commit']})" if provenance.get("git_commit") else "")))
    return items
