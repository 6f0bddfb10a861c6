"""The command line: every command documented, stable JSON, clean errors."""

from __future__ import annotations

import json

import pytest
import typer.main
from conftest import FIXTURES

from flows.cli.app import app


def _leaf_commands(group, prefix=()):
    for name, command in sorted(group.commands.items()):
        if hasattr(command, "commands"):
            yield from _leaf_commands(command, (*prefix, name))
        else:
            yield (*prefix, name)


COMMANDS = list(_leaf_commands(typer.main.get_command(app)))


@pytest.mark.parametrize("words", COMMANDS, ids=" ".join)
def test_every_command_has_help_with_an_example(cli, words):
    out = cli(*words, "--help").output
    assert "Example" in out and f"ethnoflow {' '.join(words)}" in out


def test_ingest_then_status_json(cli):
    cli("ingest", FIXTURES / "ingest" / "cross" / "page.jsonl")
    status = json.loads(cli("status", "--json").output)
    assert {"posts", "authors", "sources", "rejects", "first", "last", "platforms"} <= set(status)
    assert status["posts"] == 3 and status["platforms"] == {"twitter": 3, "bluesky": 0}
    assert status["first"] == "2020-09-01T14:00:00Z" and status["last"] == "2020-09-01T16:00:00Z"


def test_db_option_after_the_command_name(cli, tmp_path):
    db = tmp_path / "x.duckdb"
    cli("ingest", "--db", db, FIXTURES / "ingest" / "cross" / "page.jsonl")
    assert json.loads(cli("status", "--db", db, "--json").output)["posts"] == 3


def test_not_a_corpus_is_one_clear_line_and_exit_2(cli):
    result = cli("ingest", FIXTURES / "ingest" / "cross" / "page.jsonl", FIXTURES / "ingest" / "image.png", ok=False)
    assert result.exit_code == 2
    assert "image.png: binary file (a PNG image)" in result.output and "unchanged" in result.output
    assert json.loads(cli("status", "--json").output)["posts"] == 0


def test_status_before_any_ingest_explains(cli, tmp_path):
    (tmp_path / "cli.duckdb").unlink()  # the fixture's empty store: here there is none yet
    result = cli("status", ok=False)
    assert result.exit_code == 2 and "run `ethnoflow ingest FILE` first" in result.output
