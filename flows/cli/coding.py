"""Coding commands: codebooks, machine coding, human coding rounds, agreement, export of codes."""

from __future__ import annotations

import json
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Optional

import typer

from flows.cli.app import app, codebook_app, defaults, export_app, fail, store
from flows.cli.app import embedder as load_model
from flows.cli.options import CodebookOption, DbOption, ForceOption, JsonOption, SchemesOption, SeedOption, option
from flows.cli.options import names as _names

SheetOption = Annotated[Path, option("--out", help="The coding sheet to write (.csv or .xlsx).")]


@contextmanager
def _explained():
    """Turn the coding layer's explained errors into a clean exit."""
    from flows.coding.codebook import CodebookError
    from flows.coding.sheets import SheetError
    from flows.coding.store import CodingError

    try:
        yield
    except (CodebookError, CodingError, SheetError) as exc:
        fail(str(exc))


def _schemes(schemes: Optional[Path]) -> Optional[Path]:
    return defaults().schemes(schemes)


def _codebook(ref: str, schemes: Optional[Path]):
    from flows.coding.codebook import resolve_codebook

    return resolve_codebook(ref, schemes=_schemes(schemes))


@codebook_app.command("validate")
def codebook_validate(paths: Annotated[list[Path], typer.Argument(help="Codebook YAML files.",
                                                                  show_default=False)]) -> None:
    """Check codebook files; print every problem with its file, field path and fix.

    Exits 1 when any file has a problem.

    Example:
        ethnoflow codebook validate coding_schemes/my_codebook.yaml
    """
    from flows.coding.codebook import validate_path

    problems = [line for path in paths for line in validate_path(path)]
    for line in problems:
        typer.echo(line, err=True)
    if problems:
        raise typer.Exit(1)
    typer.echo(f"{len(paths)} codebook(s) valid")


@codebook_app.command("list")
def codebook_list(schemes: SchemesOption = None, json_: JsonOption = False) -> None:
    """List the codebooks available: shipped ones and a study's own (--schemes DIR).

    Example:
        ethnoflow codebook list --schemes my_study/coding_schemes
    """
    from flows.coding.codebook import CodebookError, assignable_codes, discover, load_codebook, search_dirs

    with _explained():
        found = discover(search_dirs(_schemes(schemes)))
    rows = []
    for codebook_id, path in sorted(found.items()):
        try:
            cb = load_codebook(path)
            rows.append({"id": codebook_id, "title": cb.title, "version": cb.version,
                         "codes": [c.id for c in assignable_codes(cb)], "hash": cb.content_hash,
                         "path": str(path), "valid": True})
        except CodebookError as exc:
            rows.append({"id": codebook_id, "path": str(path), "valid": False, "problems": exc.problems})
    if json_:
        typer.echo(json.dumps(rows, indent=2))
        return
    for row in rows:
        what = f"{row['title']} (v{row['version']}, {len(row['codes'])} codes)" if row["valid"] \
            else f"INVALID: {len(row['problems'])} problem(s); run ethnoflow codebook validate {row['path']}"
        typer.echo(f"{row['id']:<26}{what}")


@app.command("code")
def code(
    codebook: Annotated[Optional[str], option(
        "--codebook", help="Codebook id (shipped or in --schemes) or a .yaml path (default: the study's "
                           "codebooks).")] = None,
    train_from: Annotated[Optional[str], option(
        "--train-from", help="Human coders to calibrate and train on, e.g. ana,ben (default: the study's, else "
                             "consensus if it exists).")] = None,
    embedder: Annotated[Optional[str], option(
        "--embedder", help="minilm (bundled), minilm-int8, static, a model folder, or none (rules only); default: "
                           "the study's, else minilm.")] = None,
    seed: SeedOption = None,
    schemes: SchemesOption = None,
    db: DbOption = None,
    json_: JsonOption = False,
) -> None:
    """Code every post with the machine coders: auto:rules, auto:semantic, auto:supervised, auto.

    Re-running codes only posts that are new or whose text changed, unless the codebook, the
    model or the human codes it learns from changed (then everything is re-coded).

    Example:
        ethnoflow code --codebook chretien2015 --train-from consensus
    """
    from flows.coding.machine import code_corpus

    settings = defaults()
    refs = settings.codebooks(codebook)
    if not refs:
        fail("which codebook? pass --codebook ID (or run inside a study, whose codebooks are used)")
    trainers, seed = settings.train_from(_names(train_from)), settings.seed(seed)
    with _explained(), store(db) as con:
        coder_model = load_model(settings.coding_embedder(embedder),
                                 hint="(or pass --embedder none to code with the rules alone)")
        results = [code_corpus(con, _codebook(ref, schemes), embedder=coder_model, train_from=trainers, seed=seed,
                               threshold=settings.validation_threshold())
                   for ref in refs]
    if json_:
        typer.echo(json.dumps(results[0] if codebook else results, indent=2, sort_keys=True))
        return
    for result in results:
        typer.echo(f"{result['codebook']}: coded {result['coded']} of {result['posts']} posts "
                   f"with {', '.join(result['coders'])}"
                   + (f"; trained on {', '.join(result['trained_on'])}" if result["trained_on"] else ""))
        gate = result.get("validation", {})
        for code_id, source in sorted(result.get("auto", {}).items()):
            verdict = gate.get(code_id)
            typer.echo(f"  auto {code_id}: {source}; "
                       + (f"{'validated' if verdict['validated'] else 'NOT VALIDATED'}: {verdict['reason']}"
                          if verdict else "not validated: no human codes to check it against"))


def _seed(seed: Optional[int]) -> int:
    return defaults().seed(seed)




@app.command()
def sample(
    codebook: CodebookOption,
    n: Annotated[int, option("--n", help="How many posts to draw.")],
    out: SheetOption,
    stratify: Annotated[Optional[str], option(
        "--stratify", help="Strata: any of author, month, kind, platform (comma list).")] = None,
    seed: SeedOption = None,
    coders: Annotated[Optional[str], option(
        "--coders", help="Leave out posts these coders already coded, e.g. ana,ben.")] = None,
    schemes: SchemesOption = None,
    db: DbOption = None,
    force: ForceOption = False,
    strategy: Annotated[str, option(
        "--strategy", help="stratified (seeded random over --stratify), uncertain (where the machine is least "
                           "sure, kept diverse) or diverse (spread over the embeddings); the last two need "
                           "`ethnoflow code` first.")] = "stratified",
) -> None:
    """Draw a reproducible sample of posts into a coding sheet for human coders.

    --strategy uncertain draws the next round where the machine coders are least sure (with
    diversity), for active learning; every draw is seeded.

    The sheet has post_id, author, date, text, in_reply_to (the parent post of a reply), one
    column per code (write 1, x or yes for present; 0 or blank for absent) and memo.

    Example:
        ethnoflow sample --codebook chretien2015 --n 120 --stratify author,month --seed 7 --out round1.xlsx
    """
    from flows.coding.rounds import sample as run_sample

    with _explained(), store(db) as con:
        result = run_sample(con, _codebook(codebook, schemes), n, out, strata=_names(stratify),
                            seed=_seed(seed), coders=_names(coders), force=force,
                            strategy=strategy)
    typer.echo(f"wrote {result['posts']} posts (of {result['eligible']} eligible) to {out}; "
               f"round {result['round_id'][:12]}")


@app.command("import-codes")
def import_codes(
    sheet: Annotated[Path, typer.Argument(help="A filled coding sheet (.csv or .xlsx).", show_default=False)],
    coder: Annotated[str, option("--coder", help="Whose codes these are (a name, or consensus).")],
    codebook: CodebookOption,
    replace: Annotated[bool, typer.Option(
        "--replace", help="Replace this coder's own earlier codes of the same posts.")] = False,
    schemes: SchemesOption = None,
    db: DbOption = None,
) -> None:
    """Import one coder's filled sheet: every row is a coded post; all of it or nothing.

    Unknown post ids, unknown code columns, values that are not yes/no and duplicate rows are
    all listed (row and column) and nothing is imported. Each coder's codes are kept apart.

    Example:
        ethnoflow import-codes round1_ana.xlsx --coder ana --codebook chretien2015
    """
    from flows.coding.importing import import_codes as run_import

    with _explained(), store(db) as con:
        result = run_import(con, sheet, coder, _codebook(codebook, schemes), replace=replace)
    typer.echo(f"imported {result['posts']} posts ({result['assignments']} codes) for {coder}"
               + (f"; round {result['round_id'][:12]}" if result["round_id"] else ""))


@app.command()
def reconcile(
    coders: Annotated[str, option("--coders", help="The coders to reconcile, e.g. ana,ben.")],
    out: Annotated[Path, option("--out", help="The sheet of posts to discuss (.csv or .xlsx).")],
    codebook: Annotated[Optional[str], option(
        "--codebook", help="Codebook id (default: the one these coders coded).")] = None,
    schemes: SchemesOption = None,
    db: DbOption = None,
) -> None:
    """Write the posts the coders all coded, disagreements first, for a reconciliation meeting.

    A disputed cell reads "ana:1 ben:0": replace it with the agreed value, then import the
    sheet with --coder consensus.

    Example:
        ethnoflow reconcile --coders ana,ben --out disagreements.xlsx
    """
    from flows.coding.rounds import reconcile as run_reconcile

    names = _names(coders)
    with _explained(), store(db) as con:
        cb = _codebook(codebook or _coded_codebook(con, names), schemes)
        result = run_reconcile(con, cb, names, out)
    typer.echo(f"wrote {result['posts']} posts to {out}: {result['posts_in_dispute']} with "
               f"disagreements ({result['cells_in_dispute']} codes); resolve them, then "
               f"ethnoflow import-codes {out} --coder consensus --codebook {cb.id}")


def _coded_codebook(con, coders: list[str]) -> str:
    from flows.coding.store import CodingError

    ids = [r[0] for r in con.execute("""SELECT codebook FROM code_values
        WHERE list_contains(?, coder) GROUP BY codebook HAVING count(DISTINCT coder) = ?
        ORDER BY codebook""", [coders, len(coders)]).fetchall()]
    if len(ids) != 1:
        raise CodingError(f"{'no codebook' if not ids else 'several codebooks'} coded by all of "
                          f"{', '.join(coders)}{': ' + ', '.join(ids) if ids else ''}; pass --codebook")
    return ids[0]


@app.command()
def agreement(
    codebook: CodebookOption,
    coders: Annotated[Optional[str], option(
        "--coders", help="Human coders to compare (default: all who coded).")] = None,
    against: Annotated[Optional[str], option(
        "--against", help="Reference for machine coders (default: consensus).")] = None,
    n_boot: Annotated[int, typer.Option("--n-boot", help="Bootstrap resamples for the 95% intervals.")] = 1000,
    seed: SeedOption = None,
    schemes: SchemesOption = None,
    db: DbOption = None,
    json_: JsonOption = False,
) -> None:
    """Inter-rater agreement per code and overall, and machine coders against a human reference.

    Percent agreement, Cohen's kappa (exactly two coders), Fleiss' kappa, Gwet's AC1 and
    Krippendorff's alpha (any number of coders, missing codes allowed), with bootstrap 95%
    intervals; then kappa, precision, recall and F1 of auto and each auto:* against consensus
    (or --against).

    Example:
        ethnoflow agreement --codebook chretien2015 --coders ana,ben --json
    """
    from flows.coding.agreement import agreement as run_agreement
    from flows.coding.agreement import format_report

    with _explained(), store(db, read_only=True) as con:
        report = run_agreement(con, _codebook(codebook, schemes), coders=_names(coders) or None,
                               against=against, n_boot=n_boot, seed=_seed(seed))
    typer.echo(json.dumps(report, indent=2) if json_ else format_report(report))


@export_app.command("codes")
def export_codes(
    out: Annotated[Path, option("--out", help="CSV file to write.")],
    codebook: Annotated[Optional[str], option("--codebook", help="Only these codebooks (comma list).")] = None,
    coder: Annotated[Optional[str], option(
        "--coder", help="Only these coders (comma list), e.g. auto,consensus.")] = None,
    db: DbOption = None,
    force: ForceOption = False,
) -> None:
    """Export codes as a long table: post_id,codebook,code,coder,value,score.

    One row per post, code and coder, for the current version of each codebook; value is 0/1
    and score is empty for human coders.

    Example:
        ethnoflow export codes --out codes.csv --coder auto,consensus
    """
    from flows.coding.store import export_codes as run_export

    with _explained(), store(db, read_only=True) as con:
        rows = run_export(con, out, _names(codebook) or None, _names(coder) or None, force=force)
    typer.echo(f"wrote {rows} rows to {out}")
