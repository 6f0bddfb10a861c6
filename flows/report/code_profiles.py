"""Section 3, Codes (continued): per-account code profiles (heatmap), co-occurrence of codes and
example posts per code."""

from __future__ import annotations

from flows.report import svg
from flows.report.context import Codebook, Context
from flows.report.doc import Column, Figure, Note, Quote, Quotes, Table, pct
from flows.report.reads import query

HEATMAP_ROWS = 60      # accounts drawn at most (the table keeps max_rows or more)
HEATMAP_CODES = 40     # codes drawn at most (the most frequent)
MATRIX_CODES = 20      # co-occurrence drawn as a matrix up to this many codes


def build(ctx: Context, book: Codebook, counts: dict) -> list:
    """Profile, co-occurrence and examples for one codebook."""
    leaves = sorted(book.leaves, key=lambda c: (-counts.get(c["code_id"], {"posts": 0})["posts"], c["position"]))
    return [*_profile(ctx, book, leaves), *_cooccurrence(ctx, book, leaves, counts), *_examples(ctx, book)]


def _profile(ctx: Context, book: Codebook, leaves: list[dict]) -> list:
    limit = max(ctx.settings.max_rows, min(HEATMAP_ROWS, 500)) if ctx.has_selection else ctx.settings.max_rows
    found = query(ctx.con, "codes_profile", {**book.params, "only_studied": ctx.has_selection, "limit": limit})
    accounts: dict[tuple, dict] = {}
    for r in found:
        entry = accounts.setdefault((r["platform"], r["author_id"]), {"handle": r["handle"], "coded": r["coded"],
                                                                       "codes": {}})
        if r["code"] is not None:
            entry["codes"][r["code"]] = r["posts"]
    if not accounts:
        return [Note("No studied account has a coded post, so there is no per-account profile.", "empty")]
    codes = leaves
    names = [ctx.privacy.handle(a["handle"]) for a in accounts.values()]
    columns = [Column("account", "Account", "key"), Column("coded", "Coded posts", "int")]
    columns += [Column(c["code_id"], c["label"], "pct") for c in codes]
    data = [[name, a["coded"]] + [pct(a["codes"].get(c["code_id"], 0), a["coded"]) for c in codes]
            for name, a in zip(names, accounts.values())]
    who = "studied account" if ctx.has_selection else "account with the most coded posts"
    table = Table(f"codes_{book.id}_accounts", f"Per-account code profile: % of each {who}'s coded posts "
                  "showing each code, most frequent codes first", columns, data, max_columns=2 + HEATMAP_CODES)
    drawn = codes[:HEATMAP_CODES]
    grid = [[pct(a["codes"].get(c["code_id"], 0), a["coded"]) for c in drawn]
            for a in list(accounts.values())[:HEATMAP_ROWS]]
    chart = svg.heatmap(names[:HEATMAP_ROWS], [c["label"] for c in drawn], grid,
                        title=f"{book.title}: per-account code profile")
    more = []
    if len(accounts) > HEATMAP_ROWS:
        more.append(f"the first {HEATMAP_ROWS} accounts")
    if len(codes) > HEATMAP_CODES:
        more.append(f"the {HEATMAP_CODES} most frequent codes")
    caption = ("Per-account code profile: each cell is the % of the account's coded posts showing the code"
               + (f" ({' and '.join(more)} are drawn)" if more else "") + ".")
    return [Figure(chart, caption, table.name), table]


def _cooccurrence(ctx: Context, book: Codebook, leaves: list[dict], counts: dict) -> list:
    pairs = query(ctx.con, "codes_pairs", book.params)
    if not pairs:
        return [Note("No post shows two codes of this codebook, so there is no co-occurrence to show.")]
    n = {c: counts.get(c, {"posts": 0})["posts"] for c in (leaf["code_id"] for leaf in leaves)}
    columns = [Column("code_a", "Code A"), Column("code_b", "Code B"), Column("posts", "Posts with both", "int"),
               Column("pct_a", "% of A's posts", "pct"), Column("pct_b", "% of B's posts", "pct"),
               Column("jaccard", "Jaccard", "num")]
    data = [[book.label(p["code_a"]), book.label(p["code_b"]), p["posts"], pct(p["posts"], n[p["code_a"]]),
             pct(p["posts"], n[p["code_b"]]),
             round(p["posts"] / (n[p["code_a"]] + n[p["code_b"]] - p["posts"]), 4)] for p in pairs]
    table = Table(f"codes_{book.id}_cooccurrence", "Pairs of codes on the same post, most frequent first",
                  columns, data)
    blocks: list = []
    drawn = [c for c in leaves if n[c["code_id"]]][:MATRIX_CODES]
    if len(drawn) >= 2:
        both = {}
        for p in pairs:
            both[(p["code_a"], p["code_b"])] = both[(p["code_b"], p["code_a"])] = p["posts"]
        grid = [[None if a is b else pct(both.get((a["code_id"], b["code_id"]), 0), n[a["code_id"]])
                 for b in drawn] for a in drawn]
        chart = svg.heatmap([c["label"] for c in drawn], [c["label"] for c in drawn], grid,
                            title=f"{book.title}: code co-occurrence")
        blocks.append(Figure(chart, "Code co-occurrence: each cell is the % of the row code's posts that also show "
                             "the column code.", table.name))
    return blocks + [table]


def _examples(ctx: Context, book: Codebook) -> list:
    n = ctx.settings.examples_per_code
    if not n:
        return []
    found = query(ctx.con, "codes_examples", {**book.params, "n": n})
    if not found:
        return [Note("No coded post is long enough to quote as an example.")]
    blocks, by_code = [], {}
    for r in found:
        by_code.setdefault(r["code"], []).append(r)
    columns = [Column("code", "Code"), Column("pick", "Example", "int"), Column("account", "Account", "key"),
               Column("role", "Role"), Column("date", "Date"), Column("kind", "Kind"), Column("text", "Text")]
    data = []
    for code in book.leaves:
        picked = by_code.get(code["code_id"], [])
        quotes = []
        for r in picked:
            date = r["created_at"].date().isoformat() if r["created_at"] else ""
            text = ctx.privacy.quote(r["text"])
            quotes.append(Quote(text, ctx.privacy.byline(r["author_handle"], r["role"], date, r["kind"])))
            who = "" if ctx.privacy.mask else ctx.privacy.handle(r["author_handle"])
            data.append([code["code_id"], r["pick"], who, r["role"], date, r["kind"], text])
        if quotes:
            blocks.append(Quotes(f"{code['label']} ({code['code_id']})", quotes))
    note = ("Examples are the highest-scoring coded posts, at most one per account, ties broken by a hash of the "
            "post id, so the same posts are chosen every time."
            + (" Handles and links are removed from quotes." if ctx.privacy.mask else "")
            + (" Handles are pseudonymised." if ctx.privacy.on else ""))
    return [Note(note), *blocks, Table(f"codes_{book.id}_examples", "Example posts per code", columns, data,
                                       csv_only=True)]
