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


def _current(con, codebook) -> None:
    """Make this version current before a command uses it; say what changed when it is new."""
    from flows.coding.evolution import describe
    from flows.coding.store import use_codebook

    change = use_codebook(con, codebook)
    if change:
        lines = describe(change)
        carried = ", ".join(f"{n} {k}" for k, n in sorted(change["carried"].items()))
        lines.append(f"  people's codes carried over: {carried or 'none'}")
        typer.echo("\n".join(lines), err=True)


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


@codebook_app.command("diff")
def codebook_diff(
    old: Annotated[str, typer.Argument(help="The earlier version: a .yaml file, a codebook id, or a version in "
                                            "the store (ID@LABEL or a content hash prefix).", show_default=False)],
    new: Annotated[str, typer.Argument(help="The later version, the same ways.", show_default=False)],
    schemes: SchemesOption = None,
    db: DbOption = None,
    json_: JsonOption = False,
) -> None:
    """Show what changed between two versions of a codebook, and what happens to people's codes.

    Example:
        ethnoflow codebook diff chretien2015@1.1 coding_schemes/chretien2015.yaml
    """
    from flows.coding.evolution import describe, diff

    with _explained():
        before, after = _version(old, schemes, db), _version(new, schemes, db)
        change = diff(before, after)
    typer.echo(json.dumps(change, indent=2, sort_keys=True) if json_ else "\n".join(describe(change)))


def _version(ref: str, schemes: Optional[Path], db: Optional[Path]):
    """A codebook from a file or id, or a version kept in the store (ID@LABEL, hash prefix)."""
    from flows.coding.codebook import CodebookError
    from flows.coding.evolution import stored_version

    if "@" not in ref and not all(c in "0123456789abcdef" for c in ref.lower()) or Path(ref).is_file():
        return _codebook(ref, schemes)
    with store(db, read_only=True) as con:
        book, _, label = ref.partition("@")
        rows = con.execute("""SELECT content_hash, codebook_id, version FROM codebook_versions
            WHERE (? AND codebook_id = ? AND version = ?) OR (NOT ? AND content_hash LIKE ? || '%')
            ORDER BY content_hash""", [bool(label), book, label, bool(label), ref.lower()]).fetchall()
        if len(rows) != 1:
            known = con.execute("SELECT codebook_id || '@' || version || ' (' || content_hash[:12] || ')' "
                                "FROM codebook_versions ORDER BY ALL").fetchall()
            what = "several versions match" if rows else "no version"
            raise CodebookError([f"{what} '{ref}' in the store; versions: {', '.join(k[0] for k in known) or 'none'}"
                                 + (" (give a hash prefix)" if rows else "")])
        return stored_version(con, rows[0][0])


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
        books = [_codebook(ref, schemes) for ref in refs]
        for book in books:
            _current(con, book)
        results = [code_corpus(con, book, embedder=coder_model, train_from=trainers, seed=seed,
                               threshold=settings.validation_threshold())
                   for book in books]
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
        _current(con, cb := _codebook(codebook, schemes))
        result = run_sample(con, cb, n, out, strata=_names(stratify),
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
        _current(con, cb := _codebook(codebook, schemes))
        result = run_import(con, sheet, coder, cb, replace=replace)
    for line in result["warnings"] + _outside_study(coder):
        typer.echo(f"warning: {line}", err=True)
    if result["unchanged"]:
        typer.echo(f"{sheet}: already imported for {coder} (the same {result['posts']} posts and codes); "
                   "nothing changed")
        return
    typer.echo(f"imported {result['posts']} posts ({result['assignments']} codes"
               + (f", {result['memos']} memos" if result["memos"] else "")
               + (f", {result['notes']} notes" if result["notes"] else "") + f") for {coder}"
               + (f"; round {result['round_id'][:12]}" if result["round_id"] else ""))


def _outside_study(coder: str) -> list[str]:
    """A warning when the study names its coders and this is not one of them."""
    named = defaults().coders()
    if named is None or coder in named:
        return []
    return [f"{coder} is not one of the study's coders ({', '.join(named)}); the report counts only "
            f"those: add {coder} to study.yaml (coding: coders:) or rename (ethnoflow coders rename)"]


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

    with _explained():
        cb = _codebook(codebook, schemes)
        with store(db, read_only=True) as con:
            known = con.execute("SELECT count(*) FROM codebook_current WHERE codebook_id = ? AND content_hash = ?",
                                [cb.id, cb.content_hash]).fetchone()[0]
        if not known:  # an edited codebook file: link it to the version coded before, carrying codes
            with store(db) as con:
                _current(con, cb)
        with store(db, read_only=True) as con:
            report = run_agreement(con, cb, coders=_names(coders) or None,
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


coders_app = typer.Typer(help="List, rename and remove coders (people, consensus, machines).", no_args_is_help=True)
app.add_typer(coders_app, name="coders")


@coders_app.command("list")
def coders_list(db: DbOption = None, json_: JsonOption = False) -> None:
    """List every coder: kind, codebooks, posts and codes coded, sheets imported.

    When the study names its coders (study.yaml coding: coders), coders it does not name are
    marked: the report leaves them out.

    Example:
        ethnoflow coders list
    """
    from flows.coding.coders import list_coders

    with store(db, read_only=True) as con:
        rows = list_coders(con, defaults().coders())
    if json_:
        typer.echo(json.dumps(rows, indent=2))
        return
    for r in rows:
        note = "" if r.get("in_study", True) else "  (not a coder of the study: the report leaves it out)"
        sheets = f"; sheets: {', '.join(r['sheets'])}" if r["sheets"] else ""
        typer.echo(f"{r['coder']:<18}{r['kind']:<10}{r['posts']:>6} posts {r['present']:>6} present "
                   f"({', '.join(r['codebooks']) or 'no codes'}){sheets}{note}")
    if not rows:
        typer.echo("no coders yet: import a sheet (ethnoflow import-codes) or run ethnoflow code")


@coders_app.command("rename")
def coders_rename(
    old: Annotated[str, typer.Argument(help="The coder's current name.", show_default=False)],
    new: Annotated[str, typer.Argument(help="The new name (may be an existing coder who coded other posts).",
                                       show_default=False)],
    db: DbOption = None,
) -> None:
    """Rename a coder everywhere (codes, sheets, memos), with an audit row.

    Renaming into an existing coder merges the two, unless both coded the same posts.

    Example:
        ethnoflow coders rename Ana ana
    """
    from flows.coding.coders import rename_coder

    with _explained(), store(db) as con:
        result = rename_coder(con, old, new)
    typer.echo(f"renamed {old} to {new}: {result['assignments']} codes, {result['memos']} memos")


@coders_app.command("remove")
def coders_remove(
    name: Annotated[str, typer.Argument(help="The coder whose codes go.", show_default=False)],
    round_: Annotated[Optional[str], option(
        "--round", help="Only this round's sheets: the round id `sample` printed (6+ characters) or the "
                        "sheet's file name.")] = None,
    db: DbOption = None,
) -> None:
    """Remove a coder's codes and memos (all, or one round's), with an audit row.

    Example:
        ethnoflow coders remove dave --round 3f2a9c0d1e4b
    """
    from flows.coding.coders import remove_coder

    with _explained(), store(db) as con:
        result = remove_coder(con, name, round_)
    where = f" of round {round_}" if round_ else ""
    typer.echo(f"removed {result['assignments']} codes and {result['memos']} memos of {name}{where}"
               + (f"; {result['left']} codes of {name} remain" if result["left"] else ""))
