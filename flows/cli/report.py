"""Report command: the study report (HTML, Markdown, CSV tables, provenance) and its verification."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Optional

import typer

from flows.cli.app import app, current_study, fail, store
from flows.cli.options import DbOption, JsonOption, PseudonymizeOption, settings_options
from flows.report.settings import ReportSettings


def _settings(path: Optional[Path], overrides: dict, study=None):
    """Report settings: the YAML file's `report:` section (or the whole file), else the study's,
    then the options given."""
    from pydantic import ValidationError

    from flows.study.config import SectionError, load_section

    base = study.report_settings() if study else ReportSettings()
    if path is not None:
        try:
            base = load_section(path, "report", ReportSettings)
        except SectionError as exc:
            fail(str(exc))
    try:
        return ReportSettings.model_validate({**base.model_dump(), **{k: v for k, v in overrides.items()
                                                                       if v is not None}})
    except ValidationError as exc:
        fail("\n".join(f"[report -> {' -> '.join(map(str, e['loc']))}] {e['msg']}" for e in exc.errors()))


def _recorded(out: Path):
    """The settings and study a report was built with, from its run.json (what --verify rebuilds with)."""
    try:
        run = json.loads((out / "run.json").read_text(encoding="utf-8"))
        return ReportSettings.model_validate(run["settings"]), run["study"]
    except (OSError, ValueError, KeyError) as exc:
        fail(f"{out / 'run.json'}: cannot read what the report was built with ({type(exc).__name__}); "
             "rebuild it with `ethnoflow report`")


@app.command()
@settings_options(ReportSettings, "title", "mask_quotes", "coder", "accounts", "max_rows", "n_boot", "memos",
                  codebook="codebooks")
def report(
    overrides: dict,
    db: DbOption = None,
    out: Annotated[Optional[Path], typer.Option("--out", help="Report folder (default: reports/<study>).",
                                                show_default=False)] = None,
    verify: Annotated[bool, typer.Option(
        "--verify", help="Rebuild into a temporary folder with the recorded settings and compare every file; "
                         "exit 1 naming the first file that differs.")] = False,
    settings_file: Annotated[Optional[Path], typer.Option(
        "--settings", help="YAML with the report settings (a study file's `report:` section, or the whole file).",
        show_default=False)] = None,
    pseudonymize: PseudonymizeOption = None,
    json_: JsonOption = False,
) -> None:
    """Write the study report: report.html, report.md, tables/*.csv and run.json.

    Sections: corpus, accounts (superusers), codes (per codebook: results table, codes over
    time, per-account profile, co-occurrence, examples), topics, reliability (inter-rater and
    machine-vs-human agreement) and methods with provenance. report.html is one file with
    no script and no network access; regenerating from the same database gives the same
    bytes, which --verify checks.

    Example:
        ethnoflow report --db study.duckdb --out reports/pilot --coder consensus
    """
    from flows.report.build import build_report, study_name, verify_report
    from flows.report.settings import ReportError

    if pseudonymize is not None:
        overrides["pseudonymise"] = pseudonymize
    in_study = current_study()
    with store(db, read_only=True) as con:
        folder = out or (in_study.path("reports") / in_study.name if in_study else Path("reports") / study_name(con))
        try:
            if verify:
                settings, study = _recorded(folder)
                checked = verify_report(con, folder, settings, study=study)
            else:
                result = build_report(con, folder, _settings(settings_file, overrides, in_study),
                                      study=in_study.report_context() if in_study else None)
        except ReportError as exc:
            fail(str(exc))
    if verify:
        _print_verification(folder, checked, json_)
        return
    if json_:
        typer.echo(json.dumps({"out": str(folder), "files": result.files, "sections": result.sections}, indent=2))
        return
    empty = [name for name, state in result.sections.items() if state == "empty"]
    typer.echo(f"wrote {folder / 'report.html'} ({len(result.files)} files)"
               + (f"; no data yet for: {', '.join(empty)}" if empty else ""))


def _print_verification(folder: Path, checked, json_: bool) -> None:
    if json_:
        typer.echo(json.dumps({"out": str(folder), "ok": checked.ok, "files": checked.checked,
                               "first_difference": checked.first_difference, "problem": checked.problem}, indent=2))
    elif checked.ok:
        typer.echo(f"verified {folder}: all {checked.checked} files are identical to a fresh build")
    if not checked.ok:
        if not json_:
            typer.echo(f"error: {folder / checked.first_difference}: {checked.problem}", err=True)
        raise typer.Exit(1)
