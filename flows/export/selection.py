"""What an export reads: the codebook version, the coder(s), the topic run, the options.

The codebook is the *current* version in the store (``codebook_current``): its canonical JSON
is stored with it, so an export needs no YAML file and always describes exactly the version
the codes were made under. A codebook the store has never seen is read from its file.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import duckdb

from flows.coding.codebook import Codebook, CodebookError
from flows.export.paths import ExportError
from flows.export.refiqda.conventions import PROGRAMS as CONVENTIONS

FORMATS = ("csv", "parquet", "xlsx", "qdpx", "qdc", "ids")
UNITS = ("account", "post")
PROGRAMS = tuple(CONVENTIONS)  # the programs a QDPX project can be written for


@dataclass(frozen=True)
class ExportOptions:
    """Everything ``ethnoflow export dataset`` can be asked for.

    Attributes:
        fmt: one of :data:`FORMATS`.
        codebook: a codebook id (or YAML path); None: the one codebook in the store, if one.
        coders: whose codes; tabular formats take one (None: ``auto``, else ``consensus``, else
            the only coder); QDPX takes any number (none given: every coder except the
            machine components ``auto:rules``, ``auto:semantic``, ``auto:supervised``).
        pseudonymize: replace author ids, handles, @mentions and reply targets by pseudonyms.
        remove_urls: with ``pseudonymize``, also replace every link in texts by ``[URL]``.
        no_text: leave post texts out (tabular formats).
        qdpx_unit: one QDPX text source per ``account`` or per ``post``.
        qdpx_for: the program a QDPX project is for: how positions count and how its source
            files are written (see :mod:`flows.export.refiqda.conventions`).
        study_hash: the study file's hash, recorded in the data dictionary (None when absent).
        force: replace existing files.
        since, until: the study's inclusion window (ISO dates, inclusive; None: no bound): only
            posts dated inside it are exported (an undated post is then left out).
    """

    fmt: str
    codebook: str | None = None
    coders: tuple[str, ...] = ()
    pseudonymize: bool = False
    remove_urls: bool = False
    no_text: bool = False
    qdpx_unit: str = "account"
    qdpx_for: str = "standard"
    study_hash: str | None = None
    force: bool = False
    since: str | None = None
    until: str | None = None

    def __post_init__(self) -> None:
        checks = ((self.fmt, FORMATS, "--format"), (self.qdpx_unit, UNITS, "--qdpx-unit"),
                  (self.qdpx_for, PROGRAMS, "--for"))
        for value, allowed, option in checks:
            if value not in allowed:
                raise ExportError(f"unknown {option} {value!r}; use one of {', '.join(allowed)}")
        if self.remove_urls and not self.pseudonymize:
            raise ExportError("removing URLs is part of pseudonymising; pass --pseudonymize too")


@dataclass
class Selection:
    """The resolved inputs of one export."""

    codebook: Codebook | None
    content_hash: str | None
    coders: list[str]
    run_id: str | None
    codes: list = field(default_factory=list)  # flows.coding.codebook.CodeNode of assignable codes


def stored_codebook(con: duckdb.DuckDBPyConnection, codebook_id: str) -> tuple[Codebook, str] | None:
    """The current stored version of a codebook, rebuilt from its canonical JSON, and its hash."""
    row = con.execute("""SELECT v.canonical, v.content_hash FROM codebook_current c
                         JOIN codebook_versions v USING (content_hash)
                         WHERE c.codebook_id = ?""", [codebook_id]).fetchone()
    return (Codebook.model_validate(json.loads(row[0])), row[1]) if row else None


def export_codebook(con: duckdb.DuckDBPyConnection, ref: str | None) -> tuple[Codebook, str] | None:
    """The codebook to export: ``ref`` (stored, else its file), or the store's only one."""
    if ref is None:
        ids = [r[0] for r in con.execute("SELECT codebook_id FROM codebook_current ORDER BY 1").fetchall()]
        if len(ids) > 1:
            raise ExportError(f"the store holds codes of several codebooks ({', '.join(ids)}); "
                              "pass --codebook ID")
        return stored_codebook(con, ids[0]) if ids else None
    found = stored_codebook(con, ref)
    if found:
        return found
    from flows.coding.codebook import resolve_codebook as from_file

    try:
        codebook = from_file(ref)
    except CodebookError as exc:
        raise ExportError(str(exc)) from None
    return codebook, codebook.content_hash


def coders_of(con: duckdb.DuckDBPyConnection, content_hash: str | None) -> list[str]:
    """Every coder with codes under this codebook version, sorted."""
    if content_hash is None:
        return []
    return [r[0] for r in con.execute("SELECT DISTINCT coder FROM code_assignments "
                                      "WHERE content_hash = ? ORDER BY coder", [content_hash]).fetchall()]


def pick_coders(present: list[str], wanted: tuple[str, ...], *, single: bool, codebook: str) -> list[str]:
    """Check the coders asked for exist; choose the default ones when none were asked for."""
    unknown = [c for c in wanted if c not in present]
    if unknown:
        raise ExportError(f"no codes by {', '.join(unknown)} under codebook {codebook}; coders with "
                          f"codes: {', '.join(present) or 'none (run ethnoflow code or import-codes)'}")
    if single and len(wanted) > 1:
        raise ExportError("a table has one value per post and code: pass one --coder "
                          "(or export QDPX, which keeps every coder's codes apart)")
    if wanted:
        return list(wanted)
    if not single:  # every coder but the machine components that `auto` combines
        return [c for c in present if not c.startswith("auto:")]
    for default in ("auto", "consensus"):
        if default in present:
            return [default]
    if len(present) == 1:
        return present
    if not present:
        return []
    raise ExportError(f"several coders coded {codebook} ({', '.join(present)}); pass --coder NAME")


def select(con: duckdb.DuckDBPyConnection, options: ExportOptions) -> Selection:
    """Resolve the codebook, coders and topic run an export reads."""
    from flows.coding.codebook import iter_codes
    from flows.topics.store import current_run

    found = export_codebook(con, options.codebook)
    codebook, content_hash = found if found else (None, None)
    coders: list[str] = []
    if codebook is not None:
        single = options.fmt in ("csv", "parquet", "xlsx")
        coders = pick_coders(coders_of(con, content_hash), options.coders, single=single,
                             codebook=codebook.id)
    elif options.coders:
        raise ExportError("--coder needs a codebook with codes; pass --codebook ID")
    run = current_run(con)
    codes = [n for n in iter_codes(codebook) if n.code.assignable] if codebook else []
    return Selection(codebook, content_hash, coders, run.run_id if run else None, codes)
