"""Export and exchange commands: datasets, REFI-QDA projects and codebooks, withdrawal."""

from __future__ import annotations

import json
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Optional

import typer

from flows.cli.app import app, codebook_app, export_app, fail, store
from flows.cli.options import DbOption, ForceOption, JsonOption, PseudonymizeOption, names, option


@contextmanager
def _explained():
    """Turn the export layer's explained errors into a one-line exit."""
    from flows.coding.codebook import CodebookError
    from flows.coding.store import CodingError
    from flows.export.paths import ExportError
    from flows.export.refiqda.reader import RefiError
    from flows.privacy.forget import ForgetError
    from flows.privacy.pseudonym import SecretError

    try:
        yield
    except (ExportError, CodebookError, CodingError, ForgetError, RefiError, SecretError) as exc:
        fail(str(exc))


def _names(value: Optional[str]) -> tuple[str, ...]:
    return tuple(names(value))


@export_app.command("dataset")
def export_dataset(
    fmt: Annotated[str, option("--format", help="csv, parquet, xlsx, qdpx (REFI-QDA project), qdc (REFI-QDA "
                                                "codebook) or ids (post ids to share).")],
    out: Annotated[Path, option("--out", help="File to write (ids: the base name of one file per platform).")],
    codebook: Annotated[Optional[str], option(
        "--codebook", help="Codebook id (default: the one the store has codes of).")] = None,
    coder: Annotated[Optional[str], option(
        "--coder", help="Whose codes: auto, consensus or a name (qdpx: a comma list; default every coder).")] = None,
    pseudonymize: PseudonymizeOption = None,
    remove_urls: Annotated[bool, typer.Option(
        "--remove-urls", help="With --pseudonymize: replace every link in texts by [URL].")] = False,
    no_text: Annotated[bool, typer.Option("--no-text", help="Leave post texts out (csv, parquet, xlsx).")] = False,
    qdpx_unit: Annotated[str, typer.Option(
        "--qdpx-unit", help="One QDPX text source per account or per post.")] = "account",
    qdpx_for: Annotated[str, typer.Option(
        "--for", help="qdpx: the program it is for, which decides how positions count and how its texts are "
                      "written: standard (the REFI-QDA text), qualcoder, nvivo, atlasti or maxqda.")] = "standard",
    force: ForceOption = False,
    db: DbOption = None,
    json_: JsonOption = False,
) -> None:
    """Export the coded posts: a table with a data dictionary, a REFI-QDA project, or post ids.

    Tables have one row per post (author, role, kind, text, topic, one 0/1 column per code,
    the coder) and <name>.dictionary.md/.json beside them; CSV and XLSX cells that a
    spreadsheet would run as formulas get a leading '; XLSX splits a text longer than an Excel
    cell into text_part2... columns (the output says how many posts). A QDPX project has one
    selection per post and coder, written for the program --for names. Files are written aside
    and renamed, so an interrupted export leaves nothing half-written. Inside a study, the
    study's hash is recorded and its `pseudonymize` setting is the default.

    Example:
        ethnoflow export dataset --format qdpx --for qualcoder --out data/share/study.qdpx --coder ana,ben
    """
    from flows.export.dataset import export_dataset as run_export
    from flows.export.selection import ExportOptions
    from flows.study.resolve import Defaults, study_of_store

    with _explained(), store(db, read_only=True) as con:
        study = study_of_store(con)  # the study whose store this is: its hash, its pseudonymising
        pseudonymize = Defaults(study).pseudonymize(pseudonymize)
        options = ExportOptions(fmt=fmt, codebook=codebook, coders=_names(coder), pseudonymize=pseudonymize,
                                remove_urls=remove_urls, no_text=no_text, qdpx_unit=qdpx_unit,
                                qdpx_for=qdpx_for, study_hash=study.sha256 if study else None, force=force,
                                **_window(study))
        result = run_export(con, out, options)
    result["pseudonymized"] = options.pseudonymize
    result.pop("columns", None)
    if json_:
        typer.echo(json.dumps(result, indent=2, sort_keys=True))
        return
    what = ", ".join(f"{k} {v}" for k, v in result.items() if k not in ("format", "files", "pseudonymized"))
    typer.echo(f"wrote {', '.join(result['files'])} ({what}{'; pseudonymised' if options.pseudonymize else ''})")


def _window(study) -> dict:
    """The study's inclusion window, which an export honours (no study: every post)."""
    if study is None:
        return {}
    since, until = study.inclusion.since, study.inclusion.until
    return {"since": since.isoformat() if since else None, "until": until.isoformat() if until else None}


@export_app.command("codebook")
def export_codebook(
    out: Annotated[Path, option("--out", help="File to write.")],
    codebook: Annotated[Optional[str], option(
        "--codebook", help="Codebook id or .yaml path (default: the one the store has codes of).")] = None,
    fmt: Annotated[str, typer.Option(
        "--format", help="qdc (REFI-QDA codebook: NVivo, ATLAS.ti, MAXQDA, QualCoder) or taguette-csv.")] = "qdc",
    force: ForceOption = False,
    db: DbOption = None,
    json_: JsonOption = False,
) -> None:
    """Export a codebook for another program: a REFI-QDA .qdc, or Taguette's codebook CSV.

    The store's current version of the codebook when the store has it, else its file. Each
    code carries its definition, criteria, examples and ethnoflow id; Taguette gets one tag per
    code that can be applied, named by its path (Access.Access to information).

    Example:
        ethnoflow export codebook --codebook chretien2015 --format taguette-csv --out codebook.csv
    """
    from flows.export.codebooks import write_codebook

    with _explained():
        found = _codebook_to_export(db, codebook)
        result = write_codebook(found, out, fmt, force=force)
    if json_:
        typer.echo(json.dumps(result, indent=2, sort_keys=True))
        return
    what = "tags" if fmt == "taguette-csv" else "codes"
    typer.echo(f"wrote {out}: {result['codes']} {what} of {result['codebook']}")


def _codebook_to_export(db: Optional[Path], ref: Optional[str]):
    """The store's current version of ``ref`` (or its only codebook); without a store, the file."""
    from flows.cli.app import study_database
    from flows.coding.codebook import resolve_codebook
    from flows.export.paths import ExportError
    from flows.export.selection import export_codebook as resolve
    from flows.store.db import resolve_db_path

    path = resolve_db_path(db, None if db else study_database())
    if path.exists():
        with store(db, read_only=True) as con:
            found = resolve(con, ref)
        if found is None:
            raise ExportError("the store holds no coded codebook; pass --codebook ID (a shipped id or a .yaml path)")
        return found[0]
    if ref is None:
        raise ExportError(f"no store at {path}; pass --codebook ID (a shipped id or a .yaml path)")
    return resolve_codebook(ref)


@codebook_app.command("import")
def codebook_import(
    path: Annotated[Path, typer.Argument(help="A REFI-QDA codebook (.qdc) or project (.qdpx).", show_default=False)],
    out: Annotated[Optional[Path], option(
        "--out", help="The YAML to write (default: coding_schemes/<file name>.yaml).")] = None,
    force: ForceOption = False,
    json_: JsonOption = False,
) -> None:
    """Turn another program's codebook (NVivo, ATLAS.ti, MAXQDA...) into a codebook YAML.

    The code tree, names and descriptions are kept. The file is a draft ('status: draft'):
    REFI-QDA does not carry criteria, example posts or a citation, so those are left for you
    to write (nothing is made up). Human coders can use a draft; machine coders wait until
    it is marked final.

    Example:
        ethnoflow codebook import nvivo_project.qdpx --out coding_schemes/vaccine_talk.yaml
    """
    from flows.export.refiqda.to_yaml import import_codebook

    with _explained():
        result = import_codebook(path, out, force=force)
    if json_:
        typer.echo(json.dumps(result, indent=2, sort_keys=True))
        return
    typer.echo(f"wrote {result['file']}: {result['codes']} codes"
               + (f", {result['lifted']} lifted to the third level" if result["lifted"] else "")
               + (f"; a draft: {result['incomplete']} codes lack a definition, criteria or examples, and "
                  "it needs a citation before machine coding (then set status: final)"))


@app.command("import-qdpx")
def import_qdpx(
    path: Annotated[Path, typer.Argument(help="A REFI-QDA project exported by ethnoflow (and coded anywhere).",
                                         show_default=False)],
    codebook: Annotated[str, option("--codebook", help="Codebook id or .yaml path the project's codes belong to.")],
    coder: Annotated[Optional[list[str]], option(
        "--coder", help="USER=NAME: import this project user's codings as coder NAME (repeatable); NAME alone for "
                        "a one-user project. Default: every user under their own name.")] = None,
    positions: Annotated[str, typer.Option(
        "--positions", help="How the project counts positions: auto (the program that wrote it last, from its "
                            "origin), or standard, qualcoder, nvivo, atlasti, maxqda.")] = "auto",
    db: DbOption = None,
    json_: JsonOption = False,
) -> None:
    """Import the codings of a QDPX project back as code assignments, one coder per user.

    Example:
        ethnoflow import-qdpx coded_in_nvivo.qdpx --codebook chretien2015 --coder Ana=ana
    """
    from flows.export.refiqda.codes_import import import_qdpx_codes

    with _explained(), store(db) as con:
        result = import_qdpx_codes(con, path, _codebook(con, codebook), coders=_coder_map(coder),
                                   positions=positions)
    if json_:
        typer.echo(json.dumps(result, indent=2, sort_keys=True))
        return
    typer.echo(f"imported {result['posts']} posts ({result['assignments']} codes) for "
               f"{', '.join(result['coders'])}; positions counted as {result['positions']}")


def _codebook(con, ref: str):
    """The codebook ``ref``: as the store holds it, else its file."""
    from flows.export.selection import export_codebook

    return export_codebook(con, ref)[0]


def _coder_map(values: Optional[list[str]]) -> Optional[dict[str, str] | str]:
    if not values:
        return None
    if len(values) == 1 and "=" not in values[0]:
        return values[0].strip()
    pairs = [v.split("=", 1) for v in values]
    if any(len(p) != 2 or not p[0].strip() or not p[1].strip() for p in pairs):
        fail("--coder takes USER=NAME (repeat it for several users), or one NAME for a one-user project")
    return {u.strip(): n.strip() for u, n in pairs}


@app.command()
def forget(
    who: Annotated[str, typer.Argument(metavar="HANDLE_OR_ID", help="The account: @handle, handle, user id or DID.",
                                       show_default=False)],
    reason: Annotated[Optional[str], option(
        "--reason", help="Why (kept in the audit, the account's names masked).")] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Show what would be removed; change nothing.")] = False,
    db: DbOption = None,
    json_: JsonOption = False,
) -> None:
    """Withdraw an account: remove its posts and everything derived from them, and block it.

    Removes its posts (and others' reposts, manual retweets and verbatim quotes of them),
    profile, entities, embeddings, codes, memos, topic assignments and representatives, role,
    network and chat rows; cuts it out of the stored raw API pages; masks its handle in other
    people's posts; adds it to the blocklist later ingests honour; and records a keyed hash
    of it, the time, the reason and the counts in withdrawal_audit. Lists the reports and
    exports written before, which may still hold the account: delete them or write them again.
    The database file is rewritten, so the deleted rows' bytes do not linger in it.

    Example:
        ethnoflow forget @DrMaybeMaya --reason "participant withdrew, email of 2024-03-02" --dry-run
    """
    from flows.privacy.forget import forget as run_forget
    from flows.store.db import rewrite

    with _explained(), store(db) as con:
        report = run_forget(con, who, reason=reason, dry_run=dry_run)
        if not dry_run:  # freed blocks of the file still hold the deleted rows' bytes: rewrite it
            path = con.execute("SELECT path FROM duckdb_databases() WHERE database_name = current_database()"
                               ).fetchone()[0]
            con.close()
            rewrite(path)
    if json_:
        typer.echo(json.dumps(report.as_dict(), indent=2, sort_keys=True))
        return
    verb = "would remove" if dry_run else "removed"
    typer.echo(f"{verb} {report.posts} posts of {report.accounts} account(s) "
               f"(audit {report.account_hash[:12]}){'; nothing changed' if dry_run else ''}")
    for table, counts in report.counts.items():
        typer.echo(f"  {table}: " + ", ".join(f"{k} {n}" for k, n in counts.items()))
    if report.earlier_outputs:
        typer.echo(f"{len(report.earlier_outputs)} file(s) written before this withdrawal may still hold the "
                   "account; delete them or write them again:")
        for entry in report.earlier_outputs:
            typer.echo(f"  {entry['path']}  ({entry['kind']}, {entry['written_at']})")


@app.command()
def reveal(
    pseudonyms: Annotated[list[str], typer.Argument(metavar="POST_PSEUDONYM...", help="post_... pseudonyms from a "
                                                   "pseudonymised report or export.", show_default=False)],
    db: DbOption = None,
    json_: JsonOption = False,
) -> None:
    """Map post pseudonyms back to their posts, with the study secret (for the research team only).

    A pseudonymised export names posts by keyed pseudonyms (post_...); this looks each one up
    among the store's posts. A post withdrawn since, or not in this store, is not found.

    Example:
        ethnoflow reveal post_3f2a9c0d1e4b5a67
    """
    from flows.privacy.pseudonym import reveal_posts, secret_for

    with _explained(), store(db, read_only=True) as con:
        found = reveal_posts(con, secret_for(con), pseudonyms)
    if json_:
        typer.echo(json.dumps({k: (None if v is None else {"platform": v[0], "post_id": v[1]})
                               for k, v in found.items()}, indent=2, sort_keys=True))
        return
    for key, post in found.items():
        typer.echo(f"{key}  {post[0] + '/' + post[1] if post else 'not in this store'}")
    if not any(found.values()):
        raise typer.Exit(1)
