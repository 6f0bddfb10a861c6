"""Section 3, Codes: per codebook, the results table (as in Chretien et al. 2015), the codes'
definitions and the codes over time; per-account profiles, co-occurrence and examples are in
:mod:`flows.report.code_profiles`."""

from __future__ import annotations

import json

from flows.report import code_profiles, svg
from flows.report.context import MAX_SERIES, MIN_MONTH_POSTS, Codebook, Context
from flows.report.doc import Column, Figure, Heading, Note, Paragraph, Section, Table, pct
from flows.report.reads import query, rows
from flows.report.settings import ReportError

MONTH_CODES = 12  # codes given a column in the over-time table


def codebooks(ctx: Context) -> list[Codebook]:
    """The codebooks the report covers (settings.codebooks, else every one in the store).

    Raises:
        ReportError: a codebook named in the settings is not in the store.
    """
    stored = {r["codebook_id"]: r for r in rows(ctx.con, "SELECT * FROM report_codebooks ORDER BY codebook_id")}
    wanted = ctx.settings.codebooks or sorted(stored)
    unknown = [c for c in wanted if c not in stored]
    if unknown:
        raise ReportError(f"report setting codebooks: {', '.join(unknown)} not in the store; codebooks with a "
                          f"version in the store: {', '.join(sorted(stored)) or 'none'} (run `ethnoflow code "
                          "--codebook ID` to add one)")
    return [_load(ctx, stored[c]) for c in wanted]


def _load(ctx: Context, row: dict) -> Codebook:
    definitions = {}

    def walk(codes: list[dict]) -> None:
        for code in codes:
            definitions[code["id"]] = code.get("definition", "")
            walk(code.get("children") or [])

    walk(json.loads(row["canonical"]).get("codes", []))
    codes = rows(ctx.con, """SELECT code_id, parent_id, depth, position, label, assignable FROM report_codebook_codes
        WHERE codebook_id = ? ORDER BY position, code_id""", [row["codebook_id"]])
    parents = {c["parent_id"] for c in codes}
    for code in codes:
        code["definition"] = definitions.get(code["code_id"], "")
        code["level"] = ("domain" if code["depth"] == 1 and code["code_id"] in parents
                         else "sub-code" if code["depth"] >= 3 else "code")
    params = {"codebook": row["codebook_id"], "coder": ctx.settings.coder, "studied": ctx.studied_scope}
    return Codebook(row["codebook_id"], row["version"], row["title"], row["content_hash"], codes, params)


def build(ctx: Context) -> Section:
    """The codes section; honest when no codebook has been used or the coder has no codes."""
    section = Section("codes", "Codes")
    books = ctx.facts["codebooks"] = codebooks(ctx)
    if not books:
        section.status = "empty"
        section.blocks.append(Note("No codes yet: no codebook has been used on this store. Run `ethnoflow code "
                                   "--codebook chretien2015` (machine coding) or import coders' sheets "
                                   "(`ethnoflow import-codes`).", "empty"))
        return section
    section.blocks.append(Paragraph(_scope_sentence(ctx)))
    coded_any = False
    for book in books:
        section.blocks.append(Heading(f"{book.title} ({book.id}, version {book.version})", f"codes-{book.id}"))
        wanted = (ctx.study.get("codebooks") or {}).get(book.id)
        if wanted and wanted != book.content_hash:
            section.blocks.append(Note(
                f"Warning: the codes shown are those of codebook {book.id} version {book.version} (sha256 "
                f"{book.content_hash[:12]}), but study.yaml's codebook file is now a different version (sha256 "
                f"{wanted[:12]}): run `ethnoflow run` (or `ethnoflow code --codebook {book.id}`) to code with it.",
                "empty"))
        blocks = _codebook_blocks(ctx, book)
        coded_any = coded_any or any(isinstance(b, Table) and b.name.endswith("_results") for b in blocks)
        section.blocks += blocks
    if not coded_any:
        section.status = "empty"
    return section


def _scope_sentence(ctx: Context) -> str:
    who = (f"the {len(ctx.studied):,} studied accounts" if ctx.studied_scope else
           "every account (no superuser selection exists)" if ctx.settings.accounts == "studied" else "every account")
    return (f"Codes are those of coder '{ctx.settings.coder}' on the current version of each codebook, counted over "
            f"the posts of {who} that this coder coded. A domain is present on a post when any of its codes is. "
            "Percentages of accounts are of the accounts with at least one coded post.")


def _codebook_blocks(ctx: Context, book: Codebook) -> list:
    totals = query(ctx.con, "codes_totals", book.params)[0]
    if not totals["posts"]:
        coders = [r["coder"] for r in rows(ctx.con, "SELECT coder FROM report_coders WHERE codebook = ? ORDER BY coder",
                                           [book.id])]
        return [Note(f"No codes by coder '{ctx.settings.coder}' on the posts in scope for this codebook yet; "
                     f"coders with codes: {', '.join(coders) or 'none'}. Run `ethnoflow code --codebook {book.id}` "
                     "or choose another coder in the report settings.", "empty"), _definitions(book)]
    counts = {r["code"]: r for r in query(ctx.con, "codes_results", book.params)}
    verdicts = ctx.facts.setdefault("validation", {})[book.id] = validation(ctx, book)
    blocks = [_results(book, totals, counts, verdicts), _counted(ctx, book, verdicts), _definitions(book)]
    blocks += _memos(ctx, book) if ctx.settings.memos else []
    blocks += _over_time(ctx, book, counts)
    blocks += code_profiles.build(ctx, book, counts)
    return blocks


def validation(ctx: Context, book: Codebook) -> dict[str, dict]:
    """Per code (domains too), the gate's verdict on the report's coder; see :mod:`flows.coding.gate`.

    People's codes need no gate. A machine coder's code is validated only with a stored verdict
    that says so (only ``auto`` is gated); a domain only when every code under it is.
    """
    from flows.coding import gate

    coder = ctx.settings.coder
    machine = coder.startswith("auto")
    stored = {r["code_id"]: r for r in rows(ctx.con, """SELECT * FROM report_code_validation
        WHERE codebook_id = ? AND coder = ?""", [book.id, coder])}
    out = {}
    for c in book.leaves:
        verdict = stored.get(c["code_id"]) or {"validated": False, "reason": gate.NO_HUMAN_CODES, "reference": None}
        out[c["code_id"]] = {"status": gate.status(verdict) if machine else "human coding",
                             "counted": gate.counted(coder, verdict, machine), **verdict}
    for c in book.codes:
        if c["code_id"] not in out:
            kids = [k for k in book.codes if k["parent_id"] == c["code_id"] and k["code_id"] in out]
            ok = not machine or (kids and all(out[k["code_id"]]["status"] == gate.VALIDATED for k in kids))
            status = "human coding" if not machine else gate.VALIDATED if ok else gate.NOT_VALIDATED
            out[c["code_id"]] = {"status": status, "validated": bool(ok),
                                 "counted": f"present when any code under it is ({status})"}
    return out


def _results(book: Codebook, totals: dict, counts: dict, verdicts: dict) -> Table:
    columns = [Column("level", "Level"), Column("code", "Code"), Column("label", "Label"),
               Column("posts", "Posts", "int"), Column("posts_pct", "% of posts", "pct"),
               Column("accounts", "Accounts", "int"), Column("accounts_pct", "% of accounts", "pct"),
               Column("validation", "Validation")]
    data, classes = [], []
    for c in book.codes:
        found = counts.get(c["code_id"], {"posts": 0, "accounts": 0})
        data.append([c["level"], c["code_id"], c["label"], found["posts"], pct(found["posts"], totals["posts"]),
                     found["accounts"], pct(found["accounts"], totals["accounts"]),
                     verdicts[c["code_id"]]["status"]])
        classes.append("domain" if c["level"] == "domain" else c["level"].replace("-", ""))
    caption = (f"Posts and accounts showing each code, of {totals['posts']:,} coded posts by "
               f"{totals['accounts']:,} accounts")
    if any(v["status"] == "not validated" for v in verdicts.values()):
        caption += ("; rows marked 'not validated' are machine codes that did not pass the validation gate: "
                    "their counts are not findings")
    return Table(f"codes_{book.id}_results", caption, columns, data, row_classes=classes, limit=500)


def _counted(ctx: Context, book: Codebook, verdicts: dict) -> Table:
    columns = [Column("code", "Code"), Column("label", "Label"), Column("validation", "Validation"),
               Column("counted", "Values counted, and why")]
    data = [[c["code_id"], c["label"], verdicts[c["code_id"]]["status"], verdicts[c["code_id"]]["counted"]]
            for c in book.leaves]
    return Table(f"codes_{book.id}_validation", f"Whose values each code counts (coder '{ctx.settings.coder}'), "
                 "and the validation gate's verdict", columns, data, limit=500)


def _memos(ctx: Context, book: Codebook) -> list:
    """Coders' memos on the codes (and on posts), shown on request (report setting memos)."""
    found = rows(ctx.con, """SELECT code, coder, platform, post_id, kind, label, memo, created_at FROM report_memos
        WHERE codebook = ? AND (list_contains(?, coder) OR len(?) = 0)
        ORDER BY code NULLS LAST, post_id NULLS FIRST, platform, coder, label, memo""",
                 [book.id, ctx.settings.coders, ctx.settings.coders])
    if not found:
        return [Note(f"No memos on {book.id} yet: write them in a sheet's memo column (or memo:<code>) and "
                     "import it.", "empty")]
    labels = {c["code_id"]: c["label"] for c in book.codes}
    columns = [Column("code", "Code"), Column("coder", "Coder"), Column("post", "Post"), Column("memo", "Memo"),
               Column("date", "Recorded")]
    data = [[labels.get(r["code"], r["code"] or "(the post)"), r["coder"],
             "" if r["post_id"] is None else f"{r['platform']}/{ctx.privacy.post(r['platform'], r['post_id'])}",
             ctx.privacy.text(r["memo"] if r["kind"] == "memo" else f"{r['label']}: {r['memo']}"),
             str(r["created_at"])[:10]] for r in found]
    return [Table(f"codes_{book.id}_memos", f"Coders' memos on {book.id}: on a code, on a code for one post, "
                  "or on a post", columns, data, limit=500)]


def _definitions(book: Codebook) -> Table:
    columns = [Column("code", "Code"), Column("label", "Label"), Column("level", "Level"),
               Column("definition", "Definition")]
    data = [[c["code_id"], c["label"], c["level"], c["definition"]] for c in book.codes]
    return Table(f"codes_{book.id}_codebook", f"Codebook {book.id} version {book.version} "
                 f"(sha256 {book.content_hash[:12]}): definitions", columns, data, limit=500)


def _over_time(ctx: Context, book: Codebook, counts: dict) -> list:
    found = query(ctx.con, "codes_months", book.params)
    if not found:
        return [Note("No coded post has a date, so codes cannot be shown over time.", "empty")]
    months = sorted({r["month"] for r in found})
    coded = {r["month"]: r["coded"] for r in found}
    posts = {(r["month"], r["code"]): r["posts"] for r in found if r["code"] is not None}
    top = sorted(book.leaves, key=lambda c: (-counts.get(c["code_id"], {"posts": 0})["posts"], c["position"]))
    columns = [Column("month", "Month", "key"), Column("coded", "Coded posts", "int")]
    columns += [Column(c["code_id"], c["label"], "pct") for c in top]
    data = [[m.isoformat()[:7], coded[m]] + [pct(posts.get((m, c["code_id"]), 0), coded[m]) for c in top]
            for m in months]
    table = Table(f"codes_{book.id}_months", "Share of each month's coded posts showing each code (%), most "
                  "frequent codes first", columns, data, limit=240, max_columns=2 + MONTH_CODES)
    series = [(c["label"], [pct(posts.get((m, c["code_id"]), 0), coded[m]) for m in months])
              for c in top[:MAX_SERIES]]
    chart = svg.lines([m.isoformat()[:7] for m in months], series,
                      title=f"{book.title}: share of coded posts per month", positions=svg.month_positions(months),
                      low=[coded[m] < MIN_MONTH_POSTS for m in months])
    caption = (f"Codes over time: share of each month's coded posts showing each code"
               f"{f' (the {MAX_SERIES} most frequent codes)' if len(top) > MAX_SERIES else ''}, on a time axis "
               f"(months without coded posts leave a gap). Months with fewer than {MIN_MONTH_POSTS} coded posts are "
               "hollow points, not joined: their shares swing on one or two posts.")
    return [Figure(chart, caption, table.name), table]
