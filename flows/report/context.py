"""What every section builder is given: the connection, the settings and shared facts."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import duckdb

from flows.privacy.redactor import Redactor
from flows.report.settings import ReportSettings

# Rows a CSV keeps at most (the HTML shows `max_rows`); past it the table says how many exist.
CSV_ROWS = 10_000
# Lines drawn in one over-time chart; the CSV holds every series.
MAX_SERIES = 8
MIN_MONTH_POSTS = 10  # a month's share is drawn as a trend only from this many posts


@dataclass
class Context:
    """Shared by the section builders of one report."""

    con: duckdb.DuckDBPyConnection
    settings: ReportSettings
    privacy: Redactor  # every name the report prints goes through it (flows.privacy.redactor)
    study: dict[str, Any]
    seed: int
    studied: list[dict] = field(default_factory=list)  # selected superusers, rank order
    facts: dict[str, Any] = field(default_factory=dict)  # what sections learn for the methods

    @property
    def has_selection(self) -> bool:
        """A superuser selection exists and selected at least one account."""
        return bool(self.studied)

    @property
    def studied_scope(self) -> bool:
        """Code tables count only the studied accounts' posts."""
        return self.settings.accounts == "studied" and self.has_selection


@dataclass
class Codebook:
    """A codebook's current version as the store holds it, and what the report counts under it."""

    id: str
    version: str
    title: str
    content_hash: str
    codes: list[dict]            # report_codebook_codes rows in file order, with a definition
    params: dict                 # the query parameters: codebook, coder, studied

    def code(self, code_id: str) -> dict:
        return next(c for c in self.codes if c["code_id"] == code_id)

    def label(self, code_id: str) -> str:
        return self.code(code_id)["label"]

    @property
    def leaves(self) -> list[dict]:
        return [c for c in self.codes if c["assignable"]]
