"""The study in effect, and what a command uses where an option is not given.

One place locates the study (`--study`, else ``$ETHNOFLOW_STUDY``, else ``./study.yaml``) and one
turns the study plus a command's options into settings: the option given, else the study's,
else the built-in default. Commands, the pipeline and exports all go through here.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from flows.study.model import StudyError, find_study, load_study

if TYPE_CHECKING:
    import duckdb

    from flows.people.chats import ChatRules
    from flows.people.network import NetworkSettings
    from flows.people.superusers import SuperuserCriteria
    from flows.study.model import Study


def study_in_effect(explicit: Path | str | None = None, *, required: bool = False) -> Study | None:
    """The study a command works on, or None when there is none.

    Raises:
        StudyError: the study file does not validate, or ``required`` and there is none.
    """
    found = find_study(explicit)
    if found is None or not Path(found).exists():
        if required:
            raise StudyError([f"{found or 'study.yaml'}: no study file here; create one with "
                              "`ethnoflow init DIR` or pass --study PATH"])
        return None
    return load_study(found)


def study_of_store(con: duckdb.DuckDBPyConnection) -> Study | None:
    """The study in effect when ``con`` is its database, else None (an unreadable study file
    counts as none here: the commands that need it report it)."""
    row = con.execute("SELECT path FROM duckdb_databases() WHERE database_name = current_database()").fetchone()
    if not (row and row[0]):
        return None
    try:
        study = study_in_effect()
    except (StudyError, OSError):
        return None
    return study if study and study.path(study.database).resolve() == Path(row[0]).resolve() else None


@dataclass(frozen=True)
class Defaults:
    """Settings for a command: the option given, else the study's, else the built-in default."""

    study: Study | None

    def seed(self, given: int | None) -> int:
        return given if given is not None else (self.study.seed if self.study else 0)

    def schemes(self, given: Path | None) -> Path | None:
        """The codebook folder that adds to and overrides the shipped codebooks."""
        return given if given is not None else (self.study.path("coding_schemes") if self.study else None)

    def codebooks(self, given: str | None) -> list[str]:
        return [given] if given else (list(self.study.coding.codebooks) if self.study else [])

    def coding_embedder(self, given: str | None) -> str:
        return given or (self.study.coding.embedder if self.study else "minilm")

    def train_from(self, given: list[str]) -> list[str] | None:
        return given or (list(self.study.coding.train_from) if self.study else None) or None

    def validation_threshold(self) -> float:
        return self.study.coding.validation_threshold if self.study else 0.6

    def coders(self) -> list[str] | None:
        """The study's named coders; None when it names none (then every coder counts)."""
        return list(self.study.coding.coders) if self.study and self.study.coding.coders else None

    def topic_model(self, given: str | None) -> str:
        return given or (self.study.topics.model if self.study else "minilm")

    def network(self) -> NetworkSettings | None:
        return self.study.network.model_copy(update={"seed": self.study.seed}) if self.study else None

    def chats(self) -> ChatRules | None:
        return self.study.chats if self.study else None

    def superusers(self) -> SuperuserCriteria:
        from flows.people.superusers import SuperuserCriteria

        return self.study.superusers if self.study else SuperuserCriteria()

    def pseudonymize(self, given: bool | None) -> bool:
        return given if given is not None else bool(self.study and self.study.pseudonymize)
