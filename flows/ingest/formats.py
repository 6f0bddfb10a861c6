"""What every ingest module shares: the formats, what a sniffed file is, and the refusal of a
file that cannot be a corpus."""

from __future__ import annotations

from dataclasses import dataclass

from flows.errors import UserError

FORMATS = ("twarc2", "v2", "v1", "archive", "csv", "bluesky")
ARCHIVE_PREFIX = "window.YTD."


class NotACorpus(UserError):
    """The file cannot hold posts; the message says why and what to do."""


@dataclass(frozen=True)
class Sniff:
    """What a file is: `format` (one of FORMATS or "empty"), `layout` and, for tables, `preset`."""

    format: str
    layout: str  # jsonl | document | archive | csv | empty
    preset: str | None = None
