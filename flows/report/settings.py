"""What a report shows and how: `ReportSettings` (a study file's `report:` section) and the result."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, field_validator

from flows.errors import UserError


class ReportError(UserError):
    """A report problem explained for the person at the keyboard."""


class ReportSettings(BaseModel):
    """Everything that decides a report; the same settings on the same store give the same bytes.

    Pseudonymisation is on by default: a report shown to a committee should not name the
    people studied unless the researcher decides it may.
    """

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    title: str | None = Field(None, description="report title; default: the study's title")
    pseudonymise: bool = Field(True, validation_alias=AliasChoices("pseudonymise", "pseudonymize"),
                               description="replace handles and @mentions by keyed pseudonyms; hide "
                                           "display names (flows.privacy.pseudonym)")
    mask_quotes: bool = Field(False, description="remove @handles and links from quoted posts")
    examples_per_code: int = Field(3, ge=0, le=10, description="example posts quoted per code")
    examples_per_topic: int = Field(2, ge=0, le=10, description="representative posts quoted per topic")
    max_rows: int = Field(25, ge=5, le=500, description="rows shown per table (the CSV keeps more)")
    codebooks: list[str] = Field(default_factory=list, description="codebook ids; empty: every one in the store")
    coder: str = Field("auto", description="whose codes the code tables count: auto, consensus or a person")
    accounts: Literal["studied", "all"] = Field(
        "studied", description="whose posts the code tables count: the selected superusers (when a "
                               "selection exists) or every account")
    topic_run: str | None = Field(None, description="topic run id (or prefix); default: the current run")
    n_boot: int = Field(1000, ge=0, le=20000, description="bootstrap resamples for agreement intervals")
    coders: list[str] = Field(default_factory=list, description="the people reliability counts (and consensus); "
                              "empty: the study's coders (coding: coders), else everyone who coded")
    memos: bool = Field(False, description="show coders' memos in each codebook's code section")

    @field_validator("codebooks")
    @classmethod
    def _unique(cls, ids: list[str]) -> list[str]:
        seen = [i for n, i in enumerate(ids) if i in ids[:n]]
        if seen:
            raise ValueError(f"codebook {seen[0]!r} is listed twice; list each codebook once")
        return ids


@dataclass
class ReportResult:
    """What `build_report` wrote: the folder, each file's sha256 and each section's state."""

    out_dir: Path
    files: dict[str, str]                                   # relative path -> sha256
    sections: dict[str, str] = field(default_factory=dict)  # section id -> "ok" | "empty"

    @property
    def html(self) -> Path:
        """The report.html file."""
        return self.out_dir / "report.html"
