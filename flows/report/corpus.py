"""Section 1, Corpus: sources and what became of their records, platforms, dates, months,
languages and kinds of post."""

from __future__ import annotations

from datetime import UTC

from flows.report import svg
from flows.report.context import CSV_ROWS, Context
from flows.report.doc import Column, Figure, Note, Paragraph, Section, Table, pct
from flows.report.reads import query, rows, scalar

KINDS = ("original", "reply", "quote", "repost")
KIND_LABELS = {"original": "originals", "reply": "replies", "quote": "quotes", "repost": "reposts"}


def build(ctx: Context) -> Section:
    """The corpus section; says so plainly when nothing has been ingested."""
    section = Section("corpus", "Corpus")
    totals = rows(ctx.con, """SELECT count(*) AS posts, count(DISTINCT (platform, author_id)) AS accounts,
        min(created_at) AS first, max(created_at) AS last FROM report_posts""")[0]
    ctx.facts["corpus"] = totals
    sources = scalar(ctx.con, "SELECT count(*) FROM report_sources")
    if not totals["posts"] and not sources:
        section.status = "empty"
        section.blocks.append(Note("No posts yet: nothing has been ingested into this store. "
                                   "Run `ethnoflow ingest FILE...` first.", "empty"))
        return section
    section.blocks.append(Paragraph(_summary(ctx, totals, sources)))
    section.blocks += [_sources(ctx, sources), *_collection(ctx), _rejects(ctx), _platforms(ctx)]
    section.blocks += _months(ctx)
    section.blocks += [_kinds(ctx, totals["posts"]), _languages(ctx, totals["posts"])]
    return section


def _date(value) -> str:
    return value.date().isoformat() if value is not None else "undated"


def _summary(ctx: Context, totals: dict, sources: int) -> str:
    read = rows(ctx.con, """SELECT coalesce(sum(records_read), 0) AS read, coalesce(sum(ingested), 0) AS ingested,
        coalesce(sum(duplicates), 0) AS duplicates, coalesce(sum(rejected), 0) AS rejected FROM report_sources""")[0]
    ctx.facts["sources"] = dict(read, files=sources)
    return (f"The store holds {totals['posts']:,} posts by {totals['accounts']:,} accounts, dated "
            f"{_date(totals['first'])} to {_date(totals['last'])} (UTC). They came from {sources:,} source "
            f"file{'s' if sources != 1 else ''}: of {read['read']:,} records read, {read['ingested']:,} were new "
            f"posts, {read['duplicates']:,} were posts already stored (or repeated) and {read['rejected']:,} "
            "were kept aside as rejects with their reason.")


def _sources(ctx: Context, total: int) -> Table:
    found = rows(ctx.con, """SELECT name, format, preset, parser_version, records_read, ingested, duplicates,
        rejected FROM report_sources ORDER BY name, sha256 LIMIT ?""", [CSV_ROWS])
    columns = [Column("file", "File"), Column("format", "Format"), Column("parser", "Parser"),
               Column("records_read", "Records read", "int"), Column("ingested", "Ingested", "int"),
               Column("duplicates", "Duplicates", "int"), Column("rejected", "Rejected", "int")]
    data = [[ctx.privacy.text(r["name"]), r["format"] + (f" ({r['preset']})" if r["preset"] else ""),
             r["parser_version"], r["records_read"], r["ingested"], r["duplicates"], r["rejected"]] for r in found]
    return Table("corpus_sources", "Source files and what became of their records", columns, data, total=total)


def _collection(ctx: Context) -> list:
    """The collection manifest: every endpoint each collection run called, its parameters, when,
    and the pages and posts it returned; the seeds that could not be collected; flags and deletions."""
    if not scalar(ctx.con, "SELECT count(*) FROM duckdb_views() WHERE view_name = 'report_collect_runs'") \
            or not scalar(ctx.con, "SELECT count(*) FROM report_collect_runs"):
        return []
    runs = rows(ctx.con, """SELECT count(*) AS runs, min(started_at) AS first, max(started_at) AS last,
        sum(pages) AS pages, sum(posts) AS posts, string_agg(DISTINCT collector, '; ' ORDER BY collector) AS by
        FROM report_collect_runs""")[0]
    flags = {r["flag"]: r["posts"] for r in rows(ctx.con, "SELECT flag, sum(posts) AS posts FROM "
                                                         "report_collect_flags GROUP BY flag")}
    deleted = scalar(ctx.con, "SELECT coalesce(sum(posts), 0) FROM report_post_deletions")
    ctx.facts["collection"] = dict(runs, flags=flags, deleted=deleted)
    text = (f"{runs['runs']:,} collection run{'s' if runs['runs'] != 1 else ''} ({runs['by']}), "
            f"{_date(runs['first'])} to {_date(runs['last'])} (UTC), fetched {runs['pages']:,} pages holding "
            f"{runs['posts']:,} posts (a post seen twice counts twice). Search results differ from one call to "
            "the next: what each call returned is kept as collected (data/collected/), not only the query.")
    if flags.get("repo_only"):
        text += (f" {flags['repo_only']:,} posts were missing from their author feeds and found only in the "
                 "accounts' repositories (listRecords).")
    if flags.get("context"):
        text += f" {flags['context']:,} posts were fetched as the threads the study's replies answer."
    if deleted:
        text += (f" {deleted:,} posts their platform reports deleted were removed from the store, each with an "
                 "audit row (post_deletions).")
    blocks: list = [Paragraph(text), _manifest(ctx)]
    failing = rows(ctx.con, "SELECT platform, seed, status, error FROM report_collect_seeds WHERE status <> 'ok' "
                            "ORDER BY platform, seed")
    if failing:
        columns = [Column("platform", "Platform"), Column("seed", "Seed"), Column("status", "Status"),
                   Column("said", "What the platform said")]
        blocks.append(Table("corpus_collection_seeds", "Seeds that could not be collected as given", columns,
                            [[r["platform"], _seed(ctx, r["seed"]), r["status"], ctx.privacy.reason(r["error"])]
                             for r in failing]))
    return blocks


def _seed(ctx: Context, seed: str) -> str:
    kind, _, value = seed.partition(":")
    if kind == "account":
        return "account " + (ctx.privacy.author(value) if value.startswith("did:") else ctx.privacy.handle(value))
    return f"{kind} {ctx.privacy.text(value)}" if value else kind


def _manifest(ctx: Context) -> Table:
    total = scalar(ctx.con, "SELECT count(*) FROM report_collect_calls")
    found = rows(ctx.con, """SELECT run_id, started_at, collector, platform, seed, endpoint, params, pages, posts,
        status FROM report_collect_calls ORDER BY run_id DESC, call_no LIMIT ?""", [CSV_ROWS])
    columns = [Column("run", "Run", "key"), Column("when", "When (UTC)", "key"), Column("platform", "Platform"),
               Column("seed", "Seed"), Column("endpoint", "Endpoint"), Column("params", "Parameters"),
               Column("pages", "Pages", "int"), Column("posts", "Posts", "int"), Column("status", "Status"),
               Column("collector", "Collector")]
    data = [[r["run_id"], r["started_at"].astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S"), r["platform"],
             _seed(ctx, r["seed"]), r["endpoint"].replace(_id_of(r["endpoint"]), ctx.privacy.author(
                 _id_of(r["endpoint"])) or "") if _id_of(r["endpoint"]) else r["endpoint"],
             ctx.privacy.text(r["params"]), r["pages"], r["posts"], r["status"], r["collector"]] for r in found]
    return Table("corpus_collection", "Collection manifest: each endpoint called, newest run first", columns, data,
                 total=total)


def _id_of(endpoint: str) -> str:
    """The user id in an X endpoint's path (/2/users/<id>/tweets), else ''."""
    parts = endpoint.split("/")
    return parts[3] if len(parts) > 3 and parts[2] == "users" and parts[3].isdigit() else ""


def _rejects(ctx: Context) -> Table | Note:
    total = scalar(ctx.con, "SELECT count(*) FROM report_rejects")
    if not total:
        return Note("No record was rejected.")
    found = rows(ctx.con, "SELECT reason, records, sources FROM report_rejects ORDER BY records DESC, reason "
                          "LIMIT ?", [CSV_ROWS])
    columns = [Column("reason", "Reason"), Column("records", "Records", "int"), Column("sources", "Files", "int")]
    data = [[ctx.privacy.reason(r["reason"]), r["records"], r["sources"]] for r in found]
    return Table("corpus_rejects", "Rejected records by reason", columns, data, total=total)


def _platforms(ctx: Context) -> Table:
    found = rows(ctx.con, """SELECT platform, count(*) AS posts, count(DISTINCT author_id) AS accounts,
        min(created_at) AS first, max(created_at) AS last FROM report_posts GROUP BY platform ORDER BY platform""")
    columns = [Column("platform", "Platform"), Column("posts", "Posts", "int"),
               Column("accounts", "Accounts", "int"), Column("first", "First post", "key"),
               Column("last", "Last post", "key")]
    data = [[r["platform"], r["posts"], r["accounts"], _date(r["first"]), _date(r["last"])] for r in found]
    return Table("corpus_platforms", "Platforms", columns, data)


def _months(ctx: Context) -> list:
    found = query(ctx.con, "corpus_months")
    if not found:
        return [Note("No post has a date, so there is no timeline.", "empty")]
    labels = [r["month"].isoformat()[:7] for r in found]
    series = [(KIND_LABELS[k], [float(r[k]) for r in found]) for k in KINDS]
    columns = [Column("month", "Month", "key")] + [Column(k, KIND_LABELS[k].capitalize(), "int") for k in KINDS]
    columns.append(Column("posts", "All posts", "int"))
    data = [[label] + [r[k] for k in KINDS] + [r["posts"]] for label, r in zip(labels, found)]
    chart = svg.stacked_bars(labels, series, title="Posts per month (UTC) by kind of post")
    table = Table("corpus_months", "Posts per month (UTC)", columns, data)  # max_rows shown; the CSV has all
    return [Figure(chart, "Posts per month (UTC), stacked by kind of post.", "corpus_months"), table]


def _kinds(ctx: Context, posts: int) -> Table:
    found = {r["kind"]: r["n"] for r in rows(ctx.con, "SELECT kind, count(*) AS n FROM report_posts "
                                                      "GROUP BY kind ORDER BY kind")}
    ctx.facts["kinds"] = found
    columns = [Column("kind", "Kind"), Column("posts", "Posts", "int"), Column("share", "% of posts", "pct")]
    data = [[k, found.get(k, 0), pct(found.get(k, 0), posts)] for k in KINDS]
    return Table("corpus_kinds", "Originals, replies, quotes and reposts", columns, data)


def _languages(ctx: Context, posts: int) -> Table:
    merged: dict[str, int] = {}
    for r in rows(ctx.con, "SELECT lang, count(*) AS n FROM report_posts GROUP BY lang"):
        code = base_language(r["lang"])
        merged[code] = merged.get(code, 0) + r["n"]
    found = sorted(merged.items(), key=lambda kv: (-kv[1], kv[0]))
    ctx.facts["languages"] = found[:5]
    columns = [Column("language", "Language"), Column("posts", "Posts", "int"), Column("share", "% of posts", "pct")]
    data = [[code, n, pct(n, posts)] for code, n in found[:CSV_ROWS]]
    return Table("corpus_languages", "Languages (BCP-47 base codes of what the platform or collector recorded: "
                 "en-GB and en-US count as en; und: undetermined, unknown or none)", columns, data,
                 total=len(found))


def base_language(tag: str | None) -> str:
    """The BCP-47 base language of a tag as platforms write it ('en-gb', 'en_US', Twitter's 'in' for
    Indonesian), by langcodes; 'und' for none, an unreadable tag, no linguistic content (zxx) and
    private-use codes (Twitter's qme, qht, qam: media, hashtags or mentions only)."""
    import langcodes

    try:
        lang = langcodes.Language.get(langcodes.standardize_tag((tag or "").strip())).language
    except (ValueError, langcodes.LanguageTagError):
        return "und"
    if not lang or lang in ("und", "zxx", "mul") or "qaa" <= lang <= "qtz":
        return "und"
    return lang
