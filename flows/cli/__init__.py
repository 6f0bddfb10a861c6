"""The `ethnoflow` command line: the app (`flows.cli.app`) and one module of commands per stage.

Importing this package registers every command on `app`; each command is a thin wrapper
over a stage's library function, and its docstring, with an example, is its `--help`.
"""

# Imported in the order `ethnoflow --help` lists them: the study, then the stages in pipeline order.
from flows.cli import run, collect, ingest, topics, coding, codeapp, people, report, export  # noqa: F401, I001 (registers commands)
from flows.cli.app import app, main

__all__ = ["app", "main"]
