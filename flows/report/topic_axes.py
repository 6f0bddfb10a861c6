"""Topics beside time and roles, in the topics section: posts per month in each topic (counts,
on a time axis), topics per author role (counts and shares), and each role's topics over time.

Only topics with at least :data:`MIN_POSTS` posts get a row in the role table and a line in the
charts (the CSV tables have every topic): a topic of a handful of posts says nothing per role.
"""

from __future__ import annotations

from flows.report import svg
from flows.report.context import MAX_SERIES, Context
from flows.report.doc import Column, Figure, Heading, Note, Table, pct
from flows.report.reads import query

MIN_POSTS = 20       # posts a topic needs for a row in the role table and the charts
ROLE_CHARTS = 4      # roles (most posts first) given a chart of their topics over time
ROLE_TOPICS = 6      # topics drawn per role chart; the rest are summed as "other topics"


def blocks(ctx: Context, run: dict, topics: list[dict]) -> list:
    """The month and role blocks; empty when no assigned post is dated or has an author."""
    found = query(ctx.con, "topics_roles", {"run": run["run_id"]})
    if not found:
        return []
    names = {t["topic"]: f"{t['topic']}: {t['label']}" for t in topics}
    big = [t["topic"] for t in topics if t["topic"] != -1 and t["posts"] >= MIN_POSTS]
    months = sorted({r["month"] for r in found if r["month"] is not None})
    out = [Heading("Topics over time and by role", "topics-time-roles")]
    if months:
        out += _months(found, months, big, names)
    out += _roles(found, big, names, months)
    return out


def _months(found: list[dict], months: list, big: list[int], names: dict) -> list:
    counts: dict[tuple, int] = {}
    for r in found:
        if r["month"] is not None:
            counts[(r["month"], r["topic"])] = counts.get((r["month"], r["topic"]), 0) + r["posts"]
    every = sorted({t for _, t in counts}, key=lambda t: (t == -1, big.index(t) if t in big else len(big), t))
    labels = [m.isoformat()[:7] for m in months]
    series = [(names.get(t, str(t)), [counts.get((m, t), 0) for m in months]) for t in big[:MAX_SERIES]]
    chart = svg.lines(labels, series, title="Posts per month in the largest topics", unit="")
    columns = [Column("month", "Month", "key")] + [Column(f"topic_{t}", names.get(t, str(t)), "int") for t in every]
    data = [[label] + [counts.get((m, t), 0) for t in every] for label, m in zip(labels, months)]
    table = Table("topics_month_posts", "Posts per month in each topic (counts; topic -1 last)", columns, data,
                  limit=240, max_columns=1 + MAX_SERIES)
    caption = f"Posts per month (UTC) in the {len(series)} largest topics, as counts."
    return [Figure(chart, caption, table.name), table]


def _roles(found: list[dict], big: list[int], names: dict, months: list) -> list:
    per: dict[tuple, int] = {}
    for r in found:
        per[(r["topic"], r["role"])] = per.get((r["topic"], r["role"]), 0) + r["posts"]
    role_posts: dict[str, int] = {}
    for (_, role), n in per.items():
        role_posts[role] = role_posts.get(role, 0) + n
    roles = sorted(role_posts, key=lambda r: (-role_posts[r], r))
    shown = [t for t in [-1, *big] if any((t, r) in per for r in roles)]
    columns = [Column("topic", "Topic"), Column("posts", "Posts", "int")]
    for role in roles:
        columns += [Column(f"{role}_posts", f"{role}: posts", "int"), Column(f"{role}_share", f"{role}: % of its posts",
                                                                             "pct")]
    data = []
    for t in shown:
        total = sum(per.get((t, r), 0) for r in roles)
        row = [names.get(t, str(t)), total]
        for role in roles:
            row += [per.get((t, role), 0), pct(per.get((t, role), 0), role_posts[role])]
        data.append(row)
    left_out = len({t for t, _ in per}) - len(shown)
    note = (f"Topics with at least {MIN_POSTS} posts, and topic -1; {left_out} smaller topics are left out here "
            "(every topic is in the CSV of posts per month).") if left_out else None
    out = [Table("topics_roles", "Topics by author role: posts, and % of each role's posts", columns, data,
                 note=note, max_columns=2 + 2 * 5)]
    grid = [[pct(per.get((t, r), 0), role_posts[r]) for r in roles] for t in shown if t != -1][:25]
    if grid:
        out.append(Figure(svg.heatmap([names[t] for t in shown if t != -1][:25], roles, grid,
                                      title="Topics by author role"),
                          "% of each role's posts in each topic (the 25 largest topics).", "topics_roles"))
    if months:
        out += _role_charts(found, roles[:ROLE_CHARTS], big, names, months)
    else:
        out.append(Note("No assigned post has a date, so topics cannot be shown over time per role.", "empty"))
    return out


def _role_charts(found: list[dict], roles: list[str], big: list[int], names: dict, months: list) -> list:
    out = []
    labels = [m.isoformat()[:7] for m in months]
    for role in roles:
        counts: dict[tuple, int] = {}
        for r in found:
            if r["role"] == role and r["month"] is not None:
                key = (r["month"], r["topic"] if r["topic"] in big[:ROLE_TOPICS] else None)
                counts[key] = counts.get(key, 0) + r["posts"]
        series = [(names[t], [counts.get((m, t), 0) for m in months]) for t in big[:ROLE_TOPICS]]
        series.append(("other topics and -1", [counts.get((m, None), 0) for m in months]))
        chart = svg.stacked_bars(labels, series, title=f"Topics of {role} posts per month")
        out.append(Figure(chart, f"Posts by {role} accounts per month, by topic (the {ROLE_TOPICS} largest "
                                 "topics; the rest summed).", "topics_roles"))
    return out
