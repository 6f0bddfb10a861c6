"""A researcher's problem is one line, never a traceback or a retry; a bug says so, its traceback under --debug."""

from __future__ import annotations

import pytest

from flows.errors import UserError, is_user_error
from flows.ingest.formats import NotACorpus
from flows.run.stages import Context, Stage


def _status_raising(monkeypatch, exc):
    import flows.store.status

    def boom(con):
        raise exc

    monkeypatch.setattr(flows.store.status, "status", boom)


def test_a_user_error_is_one_line_and_exit_2(cli, monkeypatch):
    cli("ingest", __import__("conftest").FIXTURES / "ingest" / "cross" / "page.jsonl")
    _status_raising(monkeypatch, NotACorpus("data/inbox/x.csv: row 3: bad date; fix the column 'Date'"))
    result = cli("status", ok=False)
    assert result.exit_code == 2
    assert result.output.strip() == "error: data/inbox/x.csv: row 3: bad date; fix the column 'Date'"


def test_a_bug_is_one_line_without_debug_and_a_traceback_with_it(cli, monkeypatch):
    cli("ingest", __import__("conftest").FIXTURES / "ingest" / "cross" / "page.jsonl")
    _status_raising(monkeypatch, KeyError("posts"))
    result = cli("status", ok=False)
    assert result.exit_code == 1 and len(result.output.strip().splitlines()) == 1
    assert "internal error (KeyError" in result.output and "--debug" in result.output
    with pytest.raises(KeyError):
        cli("--debug", "status", ok=False)


def test_every_error_a_researcher_can_fix_is_a_user_error():
    from flows.coding.codebook import CodebookError
    from flows.export.paths import ExportError
    from flows.report.settings import ReportError
    from flows.store.db import StoreError
    from flows.store.lock import LockedError
    from flows.study.model import StudyError

    for kind in (CodebookError, ExportError, ReportError, StoreError, LockedError, StudyError, NotACorpus):
        assert issubclass(kind, UserError), kind
    try:
        raise RuntimeError("wrapped") from NotACorpus("x")
    except RuntimeError as exc:
        assert is_user_error(exc)


def test_a_stage_user_error_leaves_its_prefect_task_as_a_value_not_a_retry(tmp_path):
    from flows.run.flow import PROBLEM, StageProblem, _redacted, _unwrapped
    from flows.study.model import load_study
    from flows.study.scaffold import create_study

    study = load_study(create_study(tmp_path / "s", title="Errors"))
    calls = []

    def bad(ctx):
        calls.append(1)
        raise NotACorpus("notes.txt: neither JSON nor a CSV with a header row")

    stage = Stage("ingest", bad, reads=(), writes=(), io=True)
    value = _redacted(stage, Context(study))(Context(study))  # what the Prefect task returns
    assert value == {PROBLEM: "notes.txt: neither JSON nor a CSV with a header row"} and calls == [1]
    with pytest.raises(StageProblem, match="notes.txt"):
        _unwrapped(value)
