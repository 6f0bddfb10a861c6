"""Prefect's logs and run states through the redaction layer, for a study that pseudonymises.

A pipeline run logs to the console and, through Prefect's API handler, into Prefect's database
(the study's ``data/prefect/prefect.db`` for ``serve``). Stages log counts, not people; but a
message can quote what it was given: an error naming a file called after an account, a record,
a post id. :func:`redacted_logs` puts a filter on every handler of the ``prefect`` and ``flows``
loggers that passes each message (and its traceback) through the study's redactor, and
:func:`redacted_error` turns a stage's exception into one whose message is redacted, so the
failed state Prefect records (``Task run failed: ...``) names nobody either.
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Iterator
from contextlib import contextmanager

from flows.errors import UserError, is_user_error

LOGGERS = ("prefect", "flows")


class RedactedError(RuntimeError):
    """A stage's exception, its message redacted (the original type is named in it)."""


class RedactedUserError(RedactedError, UserError):
    """A researcher's problem (bad input, bad configuration), its message redacted: still one line."""


class RedactingFilter(logging.Filter):
    """Rewrites a record's message and traceback through ``redact`` (a function of text)."""

    def __init__(self, redact) -> None:
        super().__init__("ethnoflow-redaction")
        self.redact = redact

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = self.redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, ()
        if record.exc_info:
            record.exc_text = self.redact("".join(traceback.format_exception(*record.exc_info)))
            record.exc_info = None
        return True


def _handlers() -> list[logging.Handler]:
    found = list(logging.getLogger().handlers)
    for name, logger in list(logging.root.manager.loggerDict.items()):
        if isinstance(logger, logging.Logger) and name.split(".")[0] in LOGGERS:
            found += logger.handlers
    return list(dict.fromkeys(found))


def study_redactor(study):
    """The redactor of a study's store (its names when the store exists), or None when the study
    shows names (``pseudonymize: false``)."""
    if not study.pseudonymize:
        return None
    from flows.privacy.pseudonym import Pseudonymizer, load_secret
    from flows.privacy.redactor import Redactor
    from flows.store.db import connect

    db = study.path(study.database)
    if not db.exists():
        return Redactor(Pseudonymizer(load_secret(study.path("data"))))
    with connect(db, read_only=True) as con:
        return Redactor.for_store(con, secret=load_secret(study.path("data")))


@contextmanager
def redacted_logs(study) -> Iterator[None]:
    """While inside, every ``prefect`` and ``flows`` log record is redacted (pseudonymising studies).

    The redactor is built at most once per run, when the first record that could carry a name
    arrives, so a run that logs nothing but counts costs nothing.
    """
    if not study.pseudonymize:
        yield
        return
    cache: list = []

    def redact(text: str) -> str:
        if not any(c.isalpha() for c in text):
            return text
        if not cache:
            cache.append(study_redactor(study))
        return cache[0].text(text) or ""

    guard = RedactingFilter(redact)
    handlers = _handlers()
    for handler in handlers:
        handler.addFilter(guard)
    try:
        yield
    finally:
        for handler in handlers:
            handler.removeFilter(guard)


def redacted_error(exc: BaseException, study) -> BaseException:
    """``exc`` as a :class:`RedactedError` with its message redacted (pseudonymising studies), else itself."""
    redactor = study_redactor(study) if study.pseudonymize else None
    if redactor is None:
        return exc
    if is_user_error(exc):
        return RedactedUserError(redactor.text(str(exc)))
    return RedactedError(redactor.text(f"{type(exc).__name__}: {exc}"))
