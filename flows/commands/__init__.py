"""Each stage's commands, one module per stage, registered onto `flows.cli.app`."""

from __future__ import annotations

import importlib
import pkgutil


def register() -> None:
    """Import every module of this package; each defines its commands with `@app.command()`."""
    for module in sorted(m.name for m in pkgutil.iter_modules(__path__)):
        importlib.import_module(f"{__name__}.{module}")
