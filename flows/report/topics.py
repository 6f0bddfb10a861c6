"""Section 4, Topics: the topic run, its topics (label, keywords, size, share), representative
posts, topics over time and topics x codes."""

from __future__ import annotations

import json

from flows.report import svg
from flows.report import topic_axes as axes
from flows.report import topic_outliers as outliers
from flows.report.context import CSV_ROWS, MAX_SERIES, MIN_MONTH_POSTS, Context
from flows.report.doc import Column, Figure, Heading, KeyValues, Note, Paragraph, Quote, Quotes, Section, Table, pct
from flows.report.reads import query, rows
from flows.report.settings import ReportError

QUOTED_TOPICS = 10     # topics whose representative posts are quoted
MONTH_TOPICS = 12      # topics given a column in the over-time table
MATRIX_TOPICS = 25     # topics drawn in the topics x codes heatmap
MATRIX_CODES = 40
CSV_TOPICS = 500       # topics given a column in the over-time CSV
MIN_CODED = 20         # coded posts a topic needs for a row in the topics x codes table


def pick_run(ctx: Context) -> dict | None:
    """The run the report shows: settings.topic_run (an id or unique prefix), else the current run.

    Raises:
        ReportError: the configured run does not exist or the prefix is ambiguous.
    """
    wanted = ctx.settings.topic_run
    found = rows(ctx.con, "SELECT * FROM report_topic_runs WHERE starts_with(run_id, ?) ORDER BY run_id",
                 [wanted]) if wanted else rows(ctx.con, "SELECT * FROM report_topic_runs ORDER BY started_at DESC, "
                                                        "run_id LIMIT 1")
    if wanted and len(found) != 1:
        known = ", ".join(r["run_id"] for r in rows(ctx.con, "SELECT run_id FROM report_topic_runs ORDER BY run_id"))
        problem = "matches several runs" if found else "is not a topic run"
        raise ReportError(f"report setting topic_run: '{wanted}' {problem}; runs: {known or 'none'}")
    return found[0] if found else None


def build(ctx: Context) -> Section:
    """The topics section; says so when no topic model has been fitted."""
    section = Section("topics", "Topics")
    run = ctx.facts["topic_run"] = pick_run(ctx)
    if run is None:
        section.status = "empty"
        section.blocks.append(Note("No topic model yet: run `ethnoflow topics` to fit one.", "empty"))
        return section
    topics = rows(ctx.con, "SELECT * FROM report_topics WHERE run_id = ? ORDER BY topic <> -1, posts DESC, topic",
                  [run["run_id"]])
    if not topics or topics[0]["topic"] != -1:  # the outlier row is always shown, empty or not
        topics.insert(0, {"topic": -1, "label": "outliers", "named": False, "keywords": [], "origin": "outliers",
                          "code_id": None, "fitted": 0, "posts": 0, "moved": 0})
    assigned = sum(t["posts"] for t in topics)
    for t in topics:  # keywords and labels lose words that name someone (flows.privacy.redactor)
        t["label"] = ctx.privacy.topic_label(t["topic"], t["label"], list(t["keywords"] or []))
        t["keywords"] = ctx.privacy.words(list(t["keywords"] or []))
    topics[0]["label"] = "outliers: no topic"
    warning = _settings_warning(ctx, run)
    section.blocks += [warning] if warning else []
    section.blocks += [Paragraph(_summary(run, topics, assigned)), _run_facts(run), _table(topics, assigned)]
    section.blocks += outliers.blocks(ctx, run, topics)
    section.blocks += _representatives(ctx, run, topics)
    section.blocks += _over_time(ctx, run, topics)
    section.blocks += axes.blocks(ctx, run, topics)
    for book in ctx.facts.get("codebooks", []):
        section.blocks += _by_codes(ctx, run, topics, book)
    return section


def _settings_warning(ctx: Context, run: dict) -> Note | None:
    """A warning when the run shown was not fitted with study.yaml's topic settings (the seed changed,
    the model, the window ...): its topics are not what the study file would give."""
    wanted = ctx.study.get("topic_settings")
    if not wanted:
        return None
    have = json.loads(run["settings"])
    differ = [k for k in sorted(set(wanted) | set(have)) if wanted.get(k) != have.get(k)]
    if not differ:
        return None
    shown = "; ".join(f"{k}: run {json.dumps(have.get(k))}, study.yaml {json.dumps(wanted.get(k))}" for k in differ[:6])
    return Note(f"Warning: topic run {run['run_id']} was not fitted with study.yaml's topic settings ({shown}"
                f"{'; ...' if len(differ) > 6 else ''}). Run `ethnoflow topics --refit` for topics that match the "
                "study file.", "empty")


def _summary(run: dict, topics: list[dict], assigned: int) -> str:
    settings = json.loads(run["settings"])
    real = sum(1 for t in topics if t["topic"] != -1)
    return (f"Topic run {run['run_id']} ({run['backend']} over embeddings by {run['model_id']}) was fitted on "
            f"{run['docs']:,} posts ({', '.join(settings.get('kinds', []))}) with seed {settings.get('seed')}, "
            f"giving {real:,} topics; {100 * run['outlier_share']:.1f}% of the fitted posts were outliers (topic -1). "
            f"{assigned:,} posts are assigned to its topics now, including posts added since the fit.")


def _run_facts(run: dict) -> KeyValues:
    settings = json.loads(run["settings"])
    items = [("run id", run["run_id"]), ("previous run", run["previous_run_id"] or "none"),
             ("backend", run["backend"]), ("embedding model", run["model_id"]), ("text rule", run["text_rule"]),
             ("input sha256", run["input_hash"]),
             ("fitted", f"{run['started_at'].isoformat()} (UTC), {run['total_seconds']:.1f} s")]
    items.append(("settings", ", ".join(f"{k}={json.dumps(v, sort_keys=True)}" for k, v in sorted(settings.items()))))
    return KeyValues("Topic model", items)


def _table(topics: list[dict], assigned: int) -> Table:
    columns = [Column("topic", "Topic", "int"), Column("label", "Label"), Column("keywords", "Keywords"),
               Column("posts", "Posts", "int"), Column("share", "% of posts", "pct"),
               Column("fitted", "Posts at fit", "int"), Column("moved", "Moved in from outliers", "int"),
               Column("origin", "Origin"), Column("code", "Nearest code")]
    data = [[t["topic"], t["label"], ", ".join(t["keywords"][:8]), t["posts"], pct(t["posts"], assigned),
             t["fitted"], t.get("moved", 0), t["origin"], t["code_id"]] for t in topics[:CSV_ROWS]]
    note = ("Topic -1 (posts in no topic) first, then the largest topics. A label is 2-4 distinct words of the "
            "topic's keywords, unless the researcher named the topic (`ethnoflow topics label`).")
    return Table("topics", "Topics: label, keywords (best first), size and share", columns, data,
                 total=len(topics), note=note)


def _representatives(ctx: Context, run: dict, topics: list[dict]) -> list:
    n = ctx.settings.examples_per_topic
    chosen = [t for t in topics if t["topic"] != -1][:min(QUOTED_TOPICS, ctx.settings.max_rows)]
    if not n or not chosen:
        return []
    found = rows(ctx.con, """SELECT r.topic, r.rank, r.similarity, r.author_handle, r.created_at, r.kind, r.text,
        coalesce(a.role, 'unknown') AS role FROM report_topic_representatives r
        LEFT JOIN report_accounts a ON a.platform = r.platform AND a.author_id = r.author_id
        WHERE r.run_id = ? AND r.rank <= ? AND list_contains(?, r.topic) ORDER BY r.topic, r.rank""",
                 [run["run_id"], n, [t["topic"] for t in chosen]])
    by_topic: dict[int, list] = {}
    for r in found:
        by_topic.setdefault(r["topic"], []).append(r)
    blocks, data = [], []
    for t in chosen:
        quotes = []
        for r in by_topic.get(t["topic"], []):
            date = r["created_at"].date().isoformat() if r["created_at"] else ""
            text = ctx.privacy.quote(r["text"])
            quotes.append(Quote(text, ctx.privacy.byline(r["author_handle"], r["role"], date,
                                                         f"similarity {r['similarity']:.2f}")))
            data.append([t["topic"], r["rank"], round(r["similarity"], 4), r["role"], date, text])
        if quotes:
            blocks.append(Quotes(f"Topic {t['topic']}: {t['label']}", quotes))
    columns = [Column("topic", "Topic", "int"), Column("rank", "Rank", "int"),
               Column("similarity", "Similarity", "num"), Column("role", "Role"), Column("date", "Date"),
               Column("text", "Text")]
    intro = Note(f"Representative posts of the {len(chosen)} largest topics: the posts nearest each topic's centre.")
    return [intro, *blocks, Table("topics_representatives", "Representative posts", columns, data, csv_only=True)]


def _over_time(ctx: Context, run: dict, topics: list[dict]) -> list:
    found = rows(ctx.con, "SELECT month, topic, posts FROM report_topic_months WHERE run_id = ? ORDER BY month, topic",
                 [run["run_id"]])
    if not found:
        return [Note("No assigned post has a date, so topics cannot be shown over time.", "empty")]
    months = sorted({r["month"] for r in found})
    per_month = {m: 0 for m in months}
    posts = {}
    for r in found:
        per_month[r["month"]] += r["posts"]
        posts[(r["month"], r["topic"])] = r["posts"]
    real = [t for t in topics if t["topic"] != -1]
    shown = real[:CSV_TOPICS]
    columns = [Column("month", "Month", "key"), Column("posts", "Posts", "int")]
    columns += [Column(f"topic_{t['topic']}", f"{t['topic']}: {t['label']}", "pct") for t in shown]
    data = [[m.isoformat()[:7], per_month[m]] + [pct(posts.get((m, t["topic"]), 0), per_month[m]) for t in shown]
            for m in months]
    table = Table("topics_months", "Share of each month's posts in each topic (%), largest topics first", columns,
                  data, limit=240, max_columns=2 + MONTH_TOPICS)
    series = [(f"{t['topic']}: {t['label']}", [pct(posts.get((m, t["topic"]), 0), per_month[m]) for m in months])
              for t in real[:MAX_SERIES]]
    chart = svg.lines([m.isoformat()[:7] for m in months], series, title="Topics over time",
                      positions=svg.month_positions(months), low=[per_month[m] < MIN_MONTH_POSTS for m in months])
    caption = (f"Topics over time: share of each month's posts in the {min(MAX_SERIES, len(real))} largest topics, "
               f"on a time axis; months with fewer than {MIN_MONTH_POSTS} posts are hollow points, not joined.")
    return [Figure(chart, caption, table.name), table]


def _by_codes(ctx: Context, run: dict, topics: list[dict], book) -> list:
    found = query(ctx.con, "topics_codes", {"run": run["run_id"], "codebook": book.id, "coder": ctx.settings.coder})
    if not found:
        return []
    coded = {r["topic"]: r["coded"] for r in found}
    posts = {(r["topic"], r["code"]): r["posts"] for r in found if r["code"] is not None}
    chosen = [t for t in topics if coded.get(t["topic"], 0) >= MIN_CODED]
    small = sum(1 for t in topics if 0 < coded.get(t["topic"], 0) < MIN_CODED)
    if not chosen:
        return [Note(f"No topic has {MIN_CODED} posts coded under {book.id} yet, so topics are not shown beside "
                     "its codes.", "empty")]
    codes = book.leaves
    columns = [Column("topic", "Topic", "int"), Column("label", "Label"), Column("coded", "Coded posts", "int")]
    columns += [Column(c["code_id"], c["label"], "pct") for c in codes]
    data = [[t["topic"], t["label"], coded[t["topic"]]]
            + [pct(posts.get((t["topic"], c["code_id"]), 0), coded[t["topic"]]) for c in codes] for t in chosen]
    note = (f"Topics with at least {MIN_CODED} coded posts; {small} smaller topics are left out." if small else None)
    table = Table(f"topics_{book.id}_codes", f"Topics × codes ({book.id}): % of each topic's coded posts showing "
                  "each code", columns, data, max_columns=3 + MATRIX_CODES, note=note)
    drawn = chosen[:MATRIX_TOPICS]
    drawn_codes = codes[:MATRIX_CODES]
    grid = [[pct(posts.get((t["topic"], c["code_id"]), 0), coded[t["topic"]]) for c in drawn_codes] for t in drawn]
    chart = svg.heatmap([f"{t['topic']}: {t['label']}" for t in drawn], [c["label"] for c in drawn_codes], grid,
                        title=f"Topics × codes ({book.id})")
    caption = (f"Topics × codes ({book.title}): % of each topic's coded posts showing each code"
               f"{f', the {MATRIX_TOPICS} largest topics' if len(chosen) > MATRIX_TOPICS else ''}.")
    return [Heading(f"Topics × codes: {book.title}", f"topics-codes-{book.id}"),
            Figure(chart, caption, table.name), table]
