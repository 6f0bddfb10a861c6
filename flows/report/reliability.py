"""Section 5, Reliability: posts coded per coder, inter-rater agreement among people with
bootstrap intervals, and machine coders against the human reference.

The statistics come from :func:`flows.coding.agreement.agreement` (the same numbers as
`ethnoflow agreement`), run on the codebook version the store holds, with the study's seed.
"""

from __future__ import annotations

from flows.coding.store import CONSENSUS, MACHINE_CODERS
from flows.report.context import Context
from flows.report.doc import Column, Heading, Note, Paragraph, Section, Table
from flows.report.reads import rows

STATS = [Column("n", "Posts (≥ 2 coders)", "int"), Column("coders", "Coders", "int"),
         Column("percent_agreement", "Agreement", "num"), Column("percent_agreement_ci", "95% CI", "ci"),
         Column("cohen_kappa", "Cohen's κ", "num"), Column("cohen_kappa_ci", "95% CI", "ci"),
         Column("fleiss_kappa", "Fleiss' κ", "num"), Column("gwet_ac1", "Gwet's AC1", "num"),
         Column("krippendorff_alpha", "Krippendorff's α", "num"), Column("krippendorff_alpha_ci", "95% CI", "ci")]
MACHINE = [Column("n", "Posts", "int"), Column("kappa", "Cohen's κ", "num"), Column("precision", "Precision", "num"),
           Column("recall", "Recall", "num"), Column("f1", "F1", "num")]


def build(ctx: Context) -> Section:
    """The reliability section; says plainly when there is no human coding yet."""
    section = Section("reliability", "Reliability")
    books = ctx.facts.get("codebooks", [])
    if not books:
        section.status = "empty"
        section.blocks.append(Note("No codes yet, so there is nothing to assess. No human coding yet either.", "empty"))
        return section
    humans_anywhere = False
    for book in books:
        section.blocks.append(Heading(f"{book.title} ({book.id})", f"reliability-{book.id}"))
        coders = rows(ctx.con, "SELECT coder, posts, codes, present FROM report_coders WHERE codebook = ? "
                               "ORDER BY coder", [book.id])
        named = ctx.settings.coders
        left_out = [c["coder"] for c in coders
                    if named and c["coder"] not in MACHINE_CODERS and c["coder"] not in named]
        coders = [c for c in coders if c["coder"] not in left_out]
        section.blocks.append(_coders_table(book, coders))
        if left_out:
            section.blocks.append(Note(f"Left out: {', '.join(left_out)}, who coded {book.id} but are not among the "
                                       f"study's coders ({', '.join(named)}; study.yaml coding: coders). "
                                       "`ethnoflow coders list` shows everyone who coded."))
        section.blocks += _versions(ctx, book, [c["coder"] for c in coders])
        section.blocks += _suggestions(ctx, book)
        people = [c["coder"] for c in coders if c["coder"] not in MACHINE_CODERS]
        ctx.facts.setdefault("coders", {})[book.id] = [c["coder"] for c in coders]
        if not people:
            section.blocks.append(Note(f"No human coding yet for {book.id}: inter-rater agreement and the machine "
                                       "coders' agreement with people need coders' sheets. Draw a sample with "
                                       "`ethnoflow sample`, have two or more people code it, and import the sheets "
                                       "with `ethnoflow import-codes`.", "empty"))
            continue
        humans_anywhere = True
        section.blocks += _agreement(ctx, book, people, bool(named))
    if not humans_anywhere:
        section.status = "empty"
    return section


def _coders_table(book, coders: list[dict]) -> Table:
    columns = [Column("coder", "Coder"), Column("kind", "Kind"), Column("posts", "Posts coded", "int"),
               Column("present", "Codes present", "int")]
    data = [[c["coder"], _kind(c["coder"]), c["posts"], c["present"]] for c in coders]
    return Table(f"reliability_{book.id}_coders", "Posts coded per coder (current codebook version)", columns, data)


def _kind(coder: str) -> str:
    if coder in MACHINE_CODERS:
        return "machine (combined decision)" if coder == "auto" else f"machine ({coder.split(':', 1)[1]})"
    return "consensus of people" if coder == CONSENSUS else "person"


def _versions(ctx: Context, book, coders: list[str]) -> list:
    """Which codebook version people's codes were made under, when any was carried over."""
    found = rows(ctx.con, """SELECT coder, version, made_under, how, codes FROM report_code_versions
        WHERE codebook = ? AND list_contains(?, coder) ORDER BY coder, how <> 'made', version, made_under, how""",
                 [book.id, coders])
    if all(r["made_under"] == book.content_hash for r in found):
        return []
    columns = [Column("coder", "Coder"), Column("version", "Made under version"), Column("hash", "sha256"),
               Column("how", "Carried over as"), Column("codes", "Codes", "int")]
    data = [[r["coder"], r["version"], r["made_under"][:12], "" if r["how"] == "made" else r["how"], r["codes"]]
            for r in found]
    return [Table(f"reliability_{book.id}_versions", f"The codebook version people's codes of version {book.version} "
                  "were made under (carried over when the codebook changed: kept, reworded, renamed, merged, split)",
                  columns, data, limit=500)]


def _suggestions(ctx: Context, book) -> list:
    """A note on rounds whose coders saw the machine's codes in the coding app (anchoring bias)."""
    found = rows(ctx.con, "SELECT round_id, posts, machine, shown FROM report_round_suggestions WHERE codebook = ? "
                          "ORDER BY round_id", [book.id])
    if not found:
        return []
    which = "; ".join(f"round {r['round_id'][:12]} ({r['posts']} posts{'' if r['shown'] else ', later turned off'})"
                      for r in found)
    return [Note(f"Machine suggestions were shown to coders in the coding app ({which}): coders saw the "
                 f"{found[0]['machine']} coder's codes while coding, which can anchor their judgement, so agreement "
                 "among them and with the machine may be higher than independent coding would give.")]


def _agreement(ctx: Context, book, people: list[str], named: bool) -> list:
    from flows.coding.agreement import agreement
    from flows.coding.codebook import Codebook

    canonical = rows(ctx.con, "SELECT canonical FROM report_codebooks WHERE codebook_id = ?", [book.id])[0]["canonical"]
    raters = [p for p in people if p != CONSENSUS]
    report = agreement(ctx.con, Codebook.model_validate_json(canonical), coders=raters or None,
                       n_boot=ctx.settings.n_boot, seed=ctx.seed)
    if named and not raters:  # the study names no person who coded: nobody else is compared
        report.update(coders=[], codes={}, overall=None)
    ctx.facts.setdefault("agreement", {})[book.id] = {"coders": report["coders"],
                                                      "against": report["machine"]["against"]}
    blocks: list = []
    raters = report["coders"]
    if len(raters) >= 2:
        blocks.append(_human_table(book, report))
    else:
        who = ", ".join(raters) or "only a consensus"
        blocks.append(Note(f"One human coder ({who}): inter-rater agreement needs two or more people coding the "
                           "same posts.", "empty"))
    pending = {c: sum(n for w, n in per.items() if w in people) for c, per in report["not_yet_coded"].items()}
    pending = {c: n for c, n in pending.items() if n}
    if pending:
        blocks.append(Note("Not yet coded since the codebook changed (codes added, redefined or split after people "
                           "coded these posts): " + ", ".join(f"{c} on {n} post(s)" for c, n in pending.items())
                           + ". Agreement on these codes counts only the posts coded under this version."))
    blocks += _machine(book, report["machine"])
    return blocks


def _stats_row(stats: dict) -> list:
    ci = stats.get("ci95") or {}
    return [stats["n"], stats["coders"], stats["percent_agreement"], ci.get("percent_agreement"),
            stats["cohen_kappa"], ci.get("cohen_kappa"), stats["fleiss_kappa"], stats.get("gwet_ac1"),
            stats["krippendorff_alpha"],
            ci.get("krippendorff_alpha")]


def _human_table(book, report: dict) -> Table:
    columns = [Column("code", "Code"), Column("label", "Label")] + STATS
    data = [[code, book.label(code)] + _stats_row(stats) for code, stats in report["codes"].items()]
    classes = [""] * len(data)
    if report["overall"]:
        data.append(["overall", "all codes pooled"] + _stats_row(report["overall"]))
        classes.append("domain")
    caption = (f"Inter-rater agreement among {', '.join(report['coders'])}: per code and pooled; 95% percentile "
               "bootstrap intervals resample posts")
    return Table(f"reliability_{book.id}_agreement", caption, columns, data, row_classes=classes, limit=500)


def _machine(book, machine: dict) -> list:
    if not machine["against"] or not machine["coders"]:
        return [Note("Machine coders are not compared with people here: that needs a consensus, or a single human "
                     "coder, as the reference.")]
    against = machine["against"]
    columns = [Column("coder", "Machine coder"), Column("code", "Code"), Column("label", "Label")] + MACHINE
    data, notes = [], []
    for name, result in machine["coders"].items():
        for code, m in result["codes"].items():
            data.append([name, code, book.label(code), m["n"], m["kappa"], m["precision"], m["recall"], m["f1"]])
        macro = result["macro"]
        data.append([name, "macro", "mean over codes", None, macro["kappa"], macro["precision"], macro["recall"],
                     macro["f1"]])
        if result.get("in_sample"):
            notes.append(f"{name} learned from {against}'s codes, so its agreement with them is in-sample "
                         "(optimistic); cross-validated figures are in the coding stage's output.")
    table = Table(f"reliability_{book.id}_machine", f"Machine coders against {against}: per code and macro "
                  "(unweighted mean over codes)", columns, data, limit=500)
    return [table] + [Paragraph(n) for n in notes]
