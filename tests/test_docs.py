"""The README's commands stay true: every `ethnoflow ...` line names a real command and options."""

from __future__ import annotations

import re
import shlex

import pytest
import typer.main
from conftest import ROOT

from flows.cli.app import app

README = (ROOT / "README.md").read_text()


def _lines() -> list[str]:
    """Command lines in code blocks and inline code; a table's `a\\|b` gives one line each."""
    found = set()
    for m in re.finditer(r"(?m)(?:^|`|&& )(ethnoflow [^`\n]+)", README):
        words = re.split(r"\s{2,}#", m.group(1))[0].split()
        i = next((n for n, w in enumerate(words[:3]) if "\\|" in w and not w.startswith("[")), None)
        choices = words[i].split("\\|") if i is not None else [None]
        for choice in choices:
            found.add(" ".join(words if choice is None else words[:i] + [choice] + words[i + 1:]))
    return sorted(found)


def _resolve(words: list[str]):
    """The click command a command line names, and the words left over."""
    command = typer.main.get_command(app)
    while words and hasattr(command, "commands") and words[0] in command.commands:
        command = command.commands[words.pop(0)]
    return command, words


@pytest.mark.parametrize("line", _lines())
def test_readme_command_lines_name_real_commands_and_options(line):
    words = shlex.split(re.sub(r"[\[\]]", " ", line).replace("\\|", "|"))[1:]
    command, rest = _resolve(words)
    assert not hasattr(command, "commands") or not rest or rest[0].startswith("-"), f"{line}: no such command"
    known = {opt for p in command.params for opt in (*p.opts, *p.secondary_opts)}
    for word in rest:
        if word.startswith("--"):
            assert word.split("=")[0] in known, f"{line}: {command.name} has no option {word}"
