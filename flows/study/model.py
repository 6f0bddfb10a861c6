"""The study file, `study.yaml`: one place that says what a study ingests, models and reports.

Every command run inside a study folder (or given `--study`) takes its database path and
settings from it. Sections embed each stage's own settings model, so a typo anywhere is an
error naming the file, the path to the key and the fix, never a silent default.
"""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from flows.collect.settings import CollectSettings
from flows.errors import UserError
from flows.people.chats import ChatRules
from flows.people.network import NetworkSettings
from flows.people.superusers import SuperuserCriteria
from flows.provenance import digest
from flows.report.settings import ReportSettings
from flows.study.config import describe, human_path, read_yaml
from flows.topics.settings import TopicSettings

STUDY_FILE = "study.yaml"
ENV_STUDY = "ETHNOFLOW_STUDY"


class StudyError(UserError):
    """Every problem of a study file, one per line, each naming the file, the key and the fix."""

    def __init__(self, problems: list[str]):
        super().__init__("\n".join(problems))
        self.problems = problems


class Sources(BaseModel):
    """Where the corpus comes from."""

    model_config = ConfigDict(extra="forbid")
    inbox: str = Field("data/inbox", description="folder whose files are ingested on every run")
    paths: list[str] = Field(default_factory=list, description="more files or glob patterns")
    format: Literal["auto", "twarc2", "v2", "v1", "archive", "csv", "bluesky"] = "auto"
    mapping: str | None = Field(None, description="column mapping (YAML) for a generic CSV")
    settle_seconds: float = Field(60, ge=0, description="a file changed less than this many seconds ago "
                                  "(still being copied or written) waits for the next run")


class Inclusion(BaseModel):
    """Which posts the study is about (topics, coding and the report use these)."""

    model_config = ConfigDict(extra="forbid")
    since: date | None = None
    until: date | None = None
    languages: list[str] = Field(default_factory=list, description="empty: every language")
    platforms: list[Literal["twitter", "bluesky"]] = Field(default_factory=lambda: ["twitter", "bluesky"])
    reposts: bool = Field(False, description="whether retweets/reposts count as the author's own posts")

    @model_validator(mode="after")
    def _window(self) -> Inclusion:
        if self.since and self.until and self.since > self.until:
            raise ValueError(f"since ({self.since}) is after until ({self.until}); swap them")
        return self


class Coding(BaseModel):
    """Machine coding: which codebooks, which embedding model, which human codes to learn from."""

    model_config = ConfigDict(extra="forbid")
    codebooks: list[str] = Field(default_factory=lambda: ["chretien2015"])
    embedder: str = Field("minilm", description="minilm, minilm-int8, static, a model folder, or none (rules only)")
    train_from: list[str] = Field(default_factory=list, description="human coders to train on; "
                                  "empty: 'consensus' when it exists")
    validation_threshold: float = Field(0.6, ge=0, le=1, description="a machine code is validated when the "
                                        "lower bound of its held-out kappa against people reaches this")
    coders: list[str] = Field(default_factory=list, description="the study's human coders (and consensus); "
                              "the report counts only these; empty: everyone who coded")


class Exports(BaseModel):
    """Datasets the pipeline writes on every run, into exports/ (replaced each time)."""

    model_config = ConfigDict(extra="forbid")
    formats: list[Literal["csv", "parquet", "xlsx", "qdpx", "qdc", "ids"]] = Field(
        default_factory=list, description="empty: no export on runs (use `ethnoflow export dataset`)")
    codebook: str | None = Field(None, description="whose codes; default: the study's first codebook")
    coder: str = Field("auto", description="tabular exports: auto, consensus or a coder's name")
    no_text: bool = Field(False, description="leave post texts out (share ids and codes, not content)")
    remove_urls: bool = Field(False, description="with pseudonyms, also replace links in texts")
    qdpx_unit: Literal["account", "post"] = "account"
    qdpx_for: Literal["standard", "qualcoder", "nvivo", "atlasti", "maxqda"] = Field(
        "standard", description="qdpx: the program it is for (how positions count, how texts are written)")


class Executor(BaseModel):
    """Where the embedding and coding batches run."""

    model_config = ConfigDict(extra="forbid")
    kind: Literal["local", "dask"] = "local"
    address: str | None = Field(None, description="dask: scheduler address; empty: a local cluster")
    workers: int = Field(2, ge=1, description="dask: workers of a local cluster")


class Study(BaseModel):
    """A study: what `ethnoflow init` writes and every command reads."""

    model_config = ConfigDict(extra="forbid")
    title: str
    seed: int = 2015
    database: str = "data/ethnoflow.duckdb"
    pseudonymize: bool = Field(True, description="keyed pseudonyms instead of handles in reports and exports")
    collect: CollectSettings | None = Field(None, description="accounts and queries fetched from Bluesky and "
                                            "the X API before each run ingests")
    sources: Sources = Field(default_factory=Sources)
    inclusion: Inclusion = Field(default_factory=Inclusion)
    coding: Coding = Field(default_factory=Coding)
    topics: TopicSettings = Field(default_factory=TopicSettings)
    superusers: SuperuserCriteria = Field(default_factory=SuperuserCriteria)
    network: NetworkSettings = Field(default_factory=NetworkSettings)
    chats: ChatRules = Field(default_factory=ChatRules)
    report: ReportSettings = Field(default_factory=ReportSettings)
    export: Exports = Field(default_factory=Exports)
    executor: Executor = Field(default_factory=Executor)
    # Filled in by load_study(): the file, its folder, and its content hash.
    file: Path = Field(Path(STUDY_FILE), exclude=True)
    folder: Path = Field(Path("."), exclude=True)
    sha256: str = Field("", exclude=True)

    def path(self, relative: str) -> Path:
        """A path of the study file, resolved against the study's folder."""
        p = Path(relative).expanduser()
        return p if p.is_absolute() else self.folder / p

    def topic_settings(self) -> TopicSettings:
        """The topic settings with the study's seed, inclusion window and languages applied."""
        base = self.topics.model_dump()
        base["seed"] = self.seed
        base["since"] = base["since"] or self.inclusion.since
        base["until"] = base["until"] or self.inclusion.until
        base["languages"] = base["languages"] or self.inclusion.languages
        if self.inclusion.reposts and "repost" not in base["kinds"]:
            base["kinds"] = [*base["kinds"], "repost"]
        return TopicSettings.model_validate(base)


    @property
    def name(self) -> str:
        """The study's short name: its folder's name (reports go to reports/<name>/)."""
        return self.folder.name or "study"

    def report_settings(self) -> ReportSettings:
        """The report section, pseudonymised as the study says unless the section says otherwise."""
        update = {} if "pseudonymise" in self.report.model_fields_set else {"pseudonymise": self.pseudonymize}
        if not self.report.coders and self.coding.coders:
            update["coders"] = list(self.coding.coders)
        return self.report.model_copy(update=update) if update else self.report

    def report_context(self) -> dict:
        """What a report needs to know of its study (see flows.report.build_report)."""
        return {"name": self.name, "title": self.report.title or self.title, "hash": self.sha256,
                "seed": self.seed, "inclusion": self.inclusion.model_dump(mode="json"),
                "data_dir": str(self.path("data")),
                "topic_settings": self.topic_settings().model_dump(mode="json"),
                "codebooks": self.codebook_hashes()}

    def codebook_hashes(self) -> dict[str, str]:
        """{codebook id: content hash} of the codebooks study.yaml names, as their files are now (one
        that cannot be read is left out: the code stage reports it)."""
        from flows.coding.codebook import CodebookError, resolve_codebook

        found = {}
        for ref in self.coding.codebooks:
            try:
                book = resolve_codebook(ref, schemes=self.path("coding_schemes"))
            except (CodebookError, OSError):
                continue
            found[book.id] = book.content_hash
        return found


def find_study(explicit: Path | str | None = None) -> Path | None:
    """`--study`, else `$ETHNOFLOW_STUDY`, else `./study.yaml` when it exists."""
    if explicit:
        return Path(explicit)
    if os.environ.get(ENV_STUDY):
        return Path(os.environ[ENV_STUDY])
    here = Path(STUDY_FILE)
    return here if here.exists() else None


def load_study(path: Path | str) -> Study:
    """Read and validate a study file.

    Raises:
        StudyError: every problem, each naming the file, the path to the key and the fix.
    """
    path = Path(path)
    data, problems = read_yaml(path)
    if problems:
        raise StudyError(problems)
    if not isinstance(data, dict):
        raise StudyError([f"{path}: [top level] expected 'key: value' lines (a mapping); "
                          "see `ethnoflow init` for a commented example"])
    try:
        study = Study.model_validate(data)
    except ValidationError as exc:
        raise StudyError([f"{path}: [{human_path(data, e['loc'])}] "
                          f"{describe(e, Study, {}, 'the comments in study.yaml')}" for e in exc.errors()]) from None
    study.file = path.resolve()
    study.folder = study.file.parent
    dumped = study.model_dump(mode="json")
    if dumped.get("collect") is None:  # a study without collection hashes as it did before the section existed
        dumped.pop("collect", None)
    study.sha256 = digest(dumped)
    return study

