"""The `ethnoflow` command line: thin wrappers over the stage functions.

This module holds the app and what commands share (`--db`, `--json`, the store, errors);
each stage's commands live in `flows/cli/<stage>.py` and register themselves on `app`.
Each command's docstring, with an example, is its `--help`. Heavy libraries (models,
BERTopic, Prefect) are imported inside the commands that need them, never at start-up.
"""

from __future__ import annotations

import errno
import os
import sys
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import Optional

import click
import typer
from typer.core import TyperGroup

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
# No network at run time: Prefect's temporary server would otherwise try to send telemetry.
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
# Prefect's temporary API gets 20 s to start by default, too little on a busy 2-core machine.
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")

DEBUG_ENV = "ETHNOFLOW_DEBUG"
_debug: list[bool] = []  # [True] while a command given --debug runs


class Commands(TyperGroup):
    """The command group: a researcher's problem (`flows.errors.UserError`) from any command is one
    line on stderr and exit status 2, a bug one line naming it and exit status 1; the traceback
    only with ``ethnoflow --debug`` (or ``$ETHNOFLOW_DEBUG=1``)."""

    def invoke(self, ctx):
        _debug.clear()
        try:
            return super().invoke(ctx)
        except (typer.Exit, typer.Abort, click.exceptions.Exit, click.exceptions.Abort, click.ClickException):
            raise
        except Exception as exc:
            if debugging():
                raise
            from flows.errors import is_user_error

            if is_user_error(exc):
                fail(str(exc))
            fail(f"internal error ({type(exc).__name__}: {_first_line(exc)}); this is a bug: run again with "
                 "`ethnoflow --debug ...` for the traceback and report it", code=1)


def debugging() -> bool:
    """Whether tracebacks are shown (``--debug`` or ``$ETHNOFLOW_DEBUG``)."""
    return bool(_debug) or os.environ.get(DEBUG_ENV, "") not in ("", "0")


def _first_line(exc: BaseException) -> str:
    return next((line.strip() for line in str(exc).splitlines() if line.strip()), "")


app = typer.Typer(
    cls=Commands,
    name="ethnoflow",
    help="Digital-ethnography pipeline for #MedTwitter and Bluesky superuser studies.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
)

# Command groups that several stages add to: `ethnoflow export ...`, `ethnoflow codebook ...`.
export_app = typer.Typer(help="Export datasets, codes and networks.", no_args_is_help=True)
codebook_app = typer.Typer(help="Validate, list and import codebooks.", no_args_is_help=True)
app.add_typer(export_app, name="export")
app.add_typer(codebook_app, name="codebook")


@app.callback()
def _options(
    debug: bool = typer.Option(False, "--debug", help="Show the traceback of an error (for bug reports)."),
) -> None:
    """Digital-ethnography pipeline for #MedTwitter and Bluesky superuser studies."""
    if debug:
        _debug.append(True)

def fail(message: str, code: int = 2) -> None:
    """Print a one-line error to stderr and exit."""
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


@contextmanager
def store(db: Optional[Path], *, read_only: bool = False, wait: float = 0.0):
    """The chosen database, open for the command and closed after it.

    The database is `--db`, else `$ETHNOFLOW_DB`, else the study's (./study.yaml or
    `$ETHNOFLOW_STUDY`), else data/ethnoflow.duckdb. Writing commands hold the study's
    lock, so they never interleave with a pipeline run. Store errors exit cleanly.
    """
    from flows.privacy.pseudonym import SecretError
    from flows.store.db import StoreError, connect
    from flows.store.lock import LockedError, study_lock

    path = store_path(db)
    try:
        with nullcontext() if read_only else study_lock(path, wait=wait):
            con = connect(path, read_only=read_only, wait=wait)
            try:
                yield con
            finally:
                con.close()
    except (StoreError, LockedError, SecretError) as exc:
        fail(str(exc))
    except Exception as exc:  # a full disk or a read-only store: one line, not a traceback
        message = disk_problem(exc, path)
        if message is None:
            raise
        fail(message)


def store_path(db: Optional[Path]) -> Path:
    """The database a command uses: `--db`, else `$ETHNOFLOW_DB`, else the study's, else the default."""
    from flows.store.db import resolve_db_path

    return resolve_db_path(db) if db or os.environ.get("ETHNOFLOW_DB") else resolve_db_path(None, study_database())


# What a failed write says, in any of its forms (errno, DuckDB's message), and what to do about it.
DISK_PROBLEMS = {
    errno.ENOSPC: ("no space left on device", "the disk is full: free some space"),
    errno.EDQUOT: ("disk quota exceeded", "your disk quota is used up: free some space"),
    errno.EFBIG: ("file too large", "the file outgrew what this file system (or ulimit -f) allows"),
    errno.EROFS: ("read-only file system", "the study is on a read-only file system: copy it somewhere writable"),
    errno.EACCES: ("permission denied", "you may not write there: check the file's and its folder's permissions"),
    errno.EPERM: ("operation not permitted", "you may not write there: check the file's and its folder's permissions"),
}


def disk_problem(exc: BaseException, path: Path) -> Optional[str]:
    """A one-line explanation of a write that failed for lack of space or permission, else None.

    DuckDB never commits a transaction it could not write, so the store is as it was.
    """
    code = getattr(exc, "errno", None)
    text = str(exc).lower()
    for number, (words, fix) in DISK_PROBLEMS.items():
        if code == number or words in text or f'"errno":"{number}"' in text:
            where = getattr(exc, "filename", None) or path
            return (f"{where}: {words}; {fix}, then run the command again. "
                    "Nothing this command did was saved: the database is as it was")
    return None


def current_study(explicit: Optional[Path] = None, *, required: bool = False):
    """The study in effect (--study, $ETHNOFLOW_STUDY or ./study.yaml), or None; an invalid file
    (or none, when ``required``) is an error.

    Commands take their defaults from it: database, seed, codebooks, models, criteria, settings.
    """
    from flows.study.model import StudyError
    from flows.study.resolve import study_in_effect

    try:
        return study_in_effect(explicit, required=required)
    except StudyError as exc:
        fail(str(exc))


def embedder(name: str, *, hint: str = "", models_dir: Optional[Path] = None, lazy: bool = False):
    """The embedding model ``name`` (`flows.embed.models.load_embedder`), or None for "none".

    With ``lazy``, a function that loads it when first called (for stages that may not need it).
    A model that cannot be loaded is a one-line error (with ``hint``, how to do without it).
    """
    if name.lower() == "none":
        return None

    def load():
        from flows.embed.models import EmbedError, load_embedder

        try:
            return load_embedder(name, **({"models_dir": models_dir} if models_dir else {}))
        except EmbedError as exc:
            fail(f"{exc}{chr(10) + hint if hint else ''}")

    return load if lazy else load()


def defaults():
    """What commands use where an option is not given (`flows.study.resolve.Defaults`)."""
    from flows.study.resolve import Defaults

    return Defaults(current_study())


def redactor(con, pseudonymize: Optional[bool]):
    """The redaction layer for what a command prints: pseudonyms when ``--pseudonymize`` (or the
    study's ``pseudonymize`` when neither option is given), names with ``--show-handles``."""
    from flows.privacy.redactor import RedactionError, Redactor

    try:
        return Redactor.for_store(con, on=defaults().pseudonymize(pseudonymize))
    except RedactionError as exc:
        fail(str(exc))


def study_database() -> Optional[Path]:
    """The database of the study in effect, if any."""
    study = current_study()
    return study.path(study.database) if study else None


def main() -> None:  # pragma: no cover - console entry point
    app(prog_name="ethnoflow")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
