"""Progress bars and summary tables for the terminal (stderr for progress, stdout for results)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table


@contextmanager
def byte_progress(console: Console) -> Iterator[Callable[[str, int, int], None]]:
    """A callback(name, done, total) drawing one bar per file; silent when not a terminal."""
    progress = Progress(TextColumn("{task.description}"), BarColumn(), DownloadColumn(),
                        TimeRemainingColumn(), console=console, transient=True,
                        disable=not console.is_terminal)
    tasks: dict[str, int] = {}

    def update(name: str, done: int, total: int) -> None:
        if name not in tasks:
            tasks[name] = progress.add_task(name, total=total)
        progress.update(tasks[name], completed=done)

    with progress:
        yield update


def ingest_table(reports) -> Table:
    """The per-file summary: read = ingested + duplicates + rejected (+ withdrawn, when any were)."""
    table = Table(title="ingest", show_footer=True)
    table.add_column("file", footer="total")
    table.add_column("format")
    keys = ("read", "ingested", "duplicates", "rejected")
    keys += ("withdrawn",) if any(r.withdrawn for r in reports) else ()
    sums = {k: sum(getattr(r, k) for r in reports) for k in keys}
    for key in sums:
        table.add_column(key, justify="right", footer=f"{sums[key]:,}")
    for r in reports:
        if r.skipped:
            table.add_row(r.path, r.format, "already ingested", *[""] * (len(sums) - 1))
        else:
            table.add_row(r.path, r.format, *(f"{getattr(r, k):,}" for k in sums))
    other = sum(r.other_facets for r in reports)
    if other:  # kept, not lost: say so
        table.caption = (f"{other:,} Bluesky facet features that are not hashtags, mentions or links "
                         "(formatting, polls, unknown types) kept as written in other_facets")
    return table


@contextmanager
def wait_progress(console: Console) -> Iterator[Callable[[str, float, float], None]]:
    """A callback(why, done, total) showing a rate-limit wait as a bar of seconds (stderr); off the
    terminal one line per wait, so a scheduled run's log says why it paused."""
    seconds = TextColumn("{task.completed:.0f}/{task.total:.0f} s")
    progress = Progress(TextColumn("{task.description}"), BarColumn(), seconds, TimeRemainingColumn(),
                        console=console, transient=True, disable=not console.is_terminal)
    tasks: dict[str, int] = {}

    def update(why: str, done: float, total: float) -> None:
        if why not in tasks:
            tasks[why] = progress.add_task(why, total=total)
            if not console.is_terminal:
                console.print(f"{why}: {total:.0f} s")
        progress.update(tasks[why], completed=done, total=total)
        if done >= total:
            progress.remove_task(tasks.pop(why))

    with progress:
        yield update
