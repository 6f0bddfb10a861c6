"""The one kind of error a researcher can act on: `UserError`.

A deterministic problem (bad input, bad configuration, a locked or missing store) raises a
subclass of `UserError` whose message names the file, the record or key, and the fix. The CLI
prints it as one line without a traceback, and the Prefect flow neither retries it nor logs a
traceback for it: running again cannot help. Anything else is a bug, shown with its traceback
only under ``ethnoflow --debug``.
"""

from __future__ import annotations


class UserError(Exception):
    """A problem the person at the keyboard can fix; the message says how."""


def is_user_error(exc: BaseException) -> bool:
    """Whether ``exc`` (or what it was raised from) is a `UserError`."""
    seen = set()
    while exc is not None and id(exc) not in seen:
        if isinstance(exc, UserError):
            return True
        seen.add(id(exc))
        exc = exc.__cause__
    return False
