"""A timeline or search walk, newest first, that resumes after a crash and stops at what it has.

Pages come newest first; each names the sort keys of its items and the cursor of the next,
older page. A walk goes down to the newest key an earlier complete walk reached (``newest``),
or to the study window's start, or to the end. Every ``checkpoint`` pages it makes the pages
durable (file, store) and only then saves the cursor: a crash resumes from there, and once the
interrupted walk is done, a fresh one from the top fetches what appeared meanwhile.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from flows.collect.state import SeedState

CHECKPOINT = 5  # pages per durable file
MAX_PAGES = 10_000  # a walk longer than this is a server that never stops paging


@dataclass
class Page:
    """One page: its JSON, the sort keys of its items (comparable strings) and the next cursor."""

    payload: dict
    keys: list[str]
    next: str | None


def walk(state: SeedState, fetch: Callable[[str | None], Page], save: Callable[[SeedState, list[dict]], object],
         *, floor: str | None = None, checkpoint: int = CHECKPOINT) -> int:
    """Walk the seed's pages (see the module docstring); return the pages fetched."""
    fetched, resumed = 0, state.cursor is not None
    while True:
        boundary, buffer = state.newest, []
        while True:
            page = fetch(state.cursor)
            fetched += 1
            buffer.append(page.payload)
            if page.keys and state.walk_top is None:
                state.walk_top = max(page.keys)
            reached = bool(page.keys) and ((boundary is not None and min(page.keys) <= boundary)
                                           or (floor is not None and min(page.keys) < floor))
            done = reached or not page.next or fetched >= MAX_PAGES
            state.cursor = None if done else page.next
            if done:
                state.newest = max(k for k in (state.newest, state.walk_top) if k is not None) \
                    if (state.newest or state.walk_top) else None
                state.walk_top = None
            if done or len(buffer) >= checkpoint:
                save(state, buffer)
                buffer = []
            if done:
                break
        if not resumed:
            return fetched
        resumed = False  # the interrupted walk is complete: now what appeared since it began
