"""Output files written whole or not at all: refuse to overwrite, write beside, then rename.

Every export writes each of its files to a hidden temporary file in the same folder and
renames it into place only when everything has been written, so an interrupted export (an
error, Ctrl-C, a full disk) leaves no half file under the name asked for. Existing files are
refused unless ``force`` is given, and all names are checked before anything is written.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from flows.errors import UserError


class ExportError(UserError):
    """An export that cannot be made, explained with the fix."""


def check_free(paths: list[Path], force: bool) -> None:
    """Refuse (naming every one) files that exist, unless ``force``; refuse folders always."""
    for path in paths:
        if path.is_dir():
            raise ExportError(f"{path} is a folder; give a file name, e.g. {path / 'export'}")
    taken = [str(p) for p in paths if p.exists()]
    if taken and not force:
        raise ExportError(f"{', '.join(taken)} already exist{'s' if len(taken) == 1 else ''}; "
                          "choose another --out or pass --force to replace")


def temp_name(path: Path) -> Path:
    """The hidden temporary file ``path`` is written to before it is renamed into place."""
    return path.with_name(f".{path.name}.{os.getpid()}.partial")


@contextmanager
def atomic_outputs(paths: list[Path], *, force: bool = False) -> Iterator[list[Path]]:
    """Yield temporary paths to write; on success rename each onto its target, else delete them.

    Example:
        >>> with atomic_outputs([Path("codes.csv")], force=True) as (tmp,):
        ...     tmp.write_text("post_id\\n")
    """
    paths = [Path(p) for p in paths]
    check_free(paths, force)
    for path in paths:
        path.parent.mkdir(parents=True, exist_ok=True)
    temps = [temp_name(p) for p in paths]
    try:
        yield temps
        for temp in temps:
            if not temp.exists():
                raise ExportError(f"internal error: {temp.name} was not written")
        for temp, path in zip(temps, paths):
            os.replace(temp, path)
    finally:
        for temp in temps:
            temp.unlink(missing_ok=True)


def sidecar(path: Path, suffix: str) -> Path:
    """A file beside ``path`` sharing its stem: ``out/x.csv`` + ``.dictionary.md`` -> ``out/x.dictionary.md``."""
    return path.with_name(path.stem + suffix)
