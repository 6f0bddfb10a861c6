"""Section 2, Accounts: the studied accounts (superusers) with role and activity, how they were
selected, and the roles of everyone who posted."""

from __future__ import annotations

import json

from flows.people.roles import short_evidence
from flows.report.context import CSV_ROWS, Context
from flows.report.doc import Column, KeyValues, Note, Paragraph, Section, Table, pct
from flows.report.reads import rows, scalar

CRITERIA_TEXT = {
    "role": "role is one of {threshold}",
    "posts_per_month": "at least {threshold} posts per month",
    "professional_share": "at least {threshold_pct} of its own posts professional",
    "faculty_interacted": "interacted with at least {threshold} faculty account(s)",
    "students_interacted": "interacted with at least {threshold} other student account(s)",
    "chats": "took part in at least {threshold} tweet chat(s)",
}
ACTIVITY = [Column("posts", "Posts", "int"), Column("originals", "Originals", "int"),
            Column("replies_given", "Replies given", "int"), Column("replies_received", "Replies received", "int"),
            Column("quotes", "Quotes", "int"), Column("reposts", "Reposts", "int")]


def load_studied(con) -> list[dict]:
    """The selected superusers in rank order, with their activity and criteria."""
    return rows(con, """SELECT c.platform, c.author_id, coalesce(a.handle, c.handle, c.author_id) AS handle,
        a.display_name, coalesce(a.role, c.role, 'unknown') AS role, a.role_evidence, c.rank, c.criteria,
        c.criteria_sha256,
        coalesce(a.posts, 0) AS posts, coalesce(a.originals, 0) AS originals,
        coalesce(a.replies_given, 0) AS replies_given, coalesce(a.replies_received, 0) AS replies_received,
        coalesce(a.quotes, 0) AS quotes, coalesce(a.reposts, 0) AS reposts
        FROM report_candidates c
        LEFT JOIN report_accounts a ON a.platform = c.platform AND a.author_id = c.author_id
        WHERE c.selected ORDER BY c.rank, c.platform, c.author_id""")


def build(ctx: Context) -> Section:
    """The accounts section; without a superuser selection, or with one that selected nobody, it says so and
    lists the most active accounts with why each has its role."""
    section = Section("accounts", "Accounts")
    posting = scalar(ctx.con, "SELECT count(*) FROM report_accounts")
    if not posting:
        section.status = "empty"
        section.blocks.append(Note("No accounts yet: the store holds no posts.", "empty"))
        return section
    candidates = scalar(ctx.con, "SELECT count(*) FROM report_candidates")
    if ctx.has_selection:
        section.blocks += _selection(ctx, candidates)
    elif candidates:
        section.blocks.append(Note(f"The last superuser selection evaluated {candidates:,} accounts and none met "
                                   "every criterion, so there are no studied accounts; the code tables count "
                                   "every account's posts.", "empty"))
        section.blocks.append(_candidates(ctx, candidates))
        section.blocks.append(_most_active(ctx, posting))  # who posts most, and why each has its role
    else:
        section.blocks.append(Note("No superuser selection yet (run `ethnoflow superusers`): the most active "
                                   "accounts are listed instead, and the code tables count every account's posts.",
                                   "empty"))
        section.blocks.append(_most_active(ctx, posting))
    section.blocks.append(_roles(ctx))
    return section


def _criteria(first: dict) -> tuple[list[tuple[str, str]], str]:
    items = []
    for name, check in json.loads(first["criteria"]).items():
        threshold = check["threshold"]
        text = CRITERIA_TEXT.get(name, f"{name} at least {{threshold}}").format(
            threshold=", ".join(threshold) if isinstance(threshold, list) else threshold,
            threshold_pct=f"{100 * threshold:.0f}%" if isinstance(threshold, (int, float)) else threshold)
        if name == "posts_per_month":
            text += f" (over {check.get('months', '?')} months)"
        items.append((name.replace("_", " "), text))
    return items, "; ".join(text for _, text in items)


def _selection(ctx: Context, candidates: int) -> list:
    items, sentence = _criteria(ctx.studied[0])
    ctx.facts["criteria"] = {"sentence": sentence, "sha256": ctx.studied[0]["criteria_sha256"],
                             "candidates": candidates, "selected": len(ctx.studied)}
    blocks = [Paragraph(f"The studied accounts are the {len(ctx.studied):,} superusers that met every selection "
                        f"criterion, out of {candidates:,} candidate accounts evaluated. The criteria are "
                        "measurable versions of those of Chretien et al. (2015): " + sentence + "."),
              KeyValues("Selection criteria", items + [("criteria sha256", ctx.studied[0]["criteria_sha256"])])]
    show_names = ctx.privacy.shows_names
    columns = [Column("rank", "Rank", "int"), Column("account", "Account", "key")]
    columns += [Column("display_name", "Display name")] if show_names else []
    columns += [Column("role", "Role"), Column("role_evidence", "Why this role")] + ACTIVITY
    columns += [Column("posts_per_month", "Posts / month", "num"),
                Column("professional_share", "% professional", "pct"),
                Column("faculty", "Faculty", "int"), Column("students", "Students", "int"),
                Column("chats", "Chats", "int")]
    data = []
    for r in ctx.studied:
        checks = json.loads(r["criteria"])
        row = [r["rank"], ctx.privacy.handle(r["handle"])] + ([r["display_name"]] if show_names else [])
        row += [r["role"], evidence(ctx, r["role_evidence"])] + [r[c.key] for c in ACTIVITY]
        row += [_value(checks, "posts_per_month"), _share(checks), _value(checks, "faculty_interacted"),
                _value(checks, "students_interacted"), _value(checks, "chats")]
        data.append(row)
    caption = ("Studied accounts (superusers): activity in the corpus and the values behind their selection. "
               "Replies to oneself (threads) are not counted as given or received.")
    return blocks + [Table("accounts_studied", caption, columns, data), _candidates(ctx, candidates)]


def evidence(ctx: Context, text: str | None) -> str:
    """The deciding evidence of a role (the rule and the bio words, or the nearest prototype and its score),
    through the redaction layer: a bio's words can name people."""
    if not text:
        return "–"
    shown = short_evidence(text, ctx.privacy.text) or "–"
    return shown if len(shown) <= 140 else shown[:139] + "…"


def _value(checks: dict, name: str):
    return checks.get(name, {}).get("value")


def _share(checks: dict) -> float | None:
    value = _value(checks, "professional_share")
    return None if value is None else round(100 * value, 4)


def _candidates(ctx: Context, total: int) -> Table:
    found = rows(ctx.con, """SELECT c.rank, coalesce(a.handle, c.handle, c.author_id) AS handle, c.role,
        c.selected, c.criteria FROM report_candidates c
        LEFT JOIN report_accounts a ON a.platform = c.platform AND a.author_id = c.author_id
        ORDER BY c.rank, c.platform, c.author_id LIMIT ?""", [CSV_ROWS])
    columns = [Column("rank", "Rank", "int"), Column("account", "Account", "key"), Column("role", "Role"),
               Column("selected", "Selected"), Column("failed", "Criteria not met")]
    data = [[r["rank"], ctx.privacy.handle(r["handle"]), r["role"], "yes" if r["selected"] else "no",
             ", ".join(n.replace("_", " ") for n, c in json.loads(r["criteria"]).items() if not c["pass"]) or "–"]
            for r in found]
    return Table("accounts_candidates", "Every candidate evaluated, in rank order, and the criteria it did not meet",
                 columns, data, total=total)


def _most_active(ctx: Context, total: int) -> Table:
    found = rows(ctx.con, """SELECT handle, display_name, role, role_evidence, posts, originals, replies_given,
        replies_received, quotes, reposts FROM report_accounts
        ORDER BY posts DESC, lower(handle), platform, author_id LIMIT ?""", [CSV_ROWS])
    show_names = ctx.privacy.shows_names
    columns = [Column("account", "Account", "key")] + ([Column("display_name", "Display name")] if show_names else [])
    columns += [Column("role", "Role"), Column("role_evidence", "Why this role")] + ACTIVITY
    data = [[ctx.privacy.handle(r["handle"])] + ([r["display_name"]] if show_names else [])
            + [r["role"], evidence(ctx, r["role_evidence"])] + [r[c.key] for c in ACTIVITY] for r in found]
    return Table("accounts_most_active", "Most active accounts (by posts)", columns, data, total=total)


def _roles(ctx: Context) -> Table:
    found = rows(ctx.con, """SELECT role, count(*) AS accounts, sum(posts)::BIGINT AS posts FROM report_accounts
        GROUP BY role ORDER BY accounts DESC, role""")
    methods = rows(ctx.con, """SELECT coalesce(role_method, 'none') AS method, count(*) AS n FROM report_accounts
        GROUP BY ALL ORDER BY method""")
    ctx.facts["role_methods"] = {r["method"]: r["n"] for r in methods}
    posts = sum(r["posts"] for r in found)
    columns = [Column("role", "Role"), Column("accounts", "Accounts", "int"), Column("posts", "Posts", "int"),
               Column("share", "% of posts", "pct")]
    data = [[r["role"], r["accounts"], r["posts"], pct(r["posts"], posts)] for r in found]
    note = None if any(m != "none" for m in ctx.facts["role_methods"]) else (
        "Roles have not been assigned yet (run `ethnoflow roles`); every account counts as 'other'.")
    return Table("accounts_roles", "Roles of the accounts that posted", columns, data, note=note)
