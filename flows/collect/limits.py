"""Rate limits, read from the platforms' response headers, and waits a person can watch.

Bluesky sends ``ratelimit-remaining`` / ``ratelimit-reset`` (epoch seconds), the X API
``x-rate-limit-remaining`` / ``x-rate-limit-reset``; either may send ``retry-after`` (seconds).
A 429 waits until the reset; a response whose remaining count is 0 makes the next call wait
for it. The clock and the sleeper are passed in, so tests never sleep.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

RESET_HEADERS = ("ratelimit-reset", "x-rate-limit-reset")
REMAINING_HEADERS = ("ratelimit-remaining", "x-rate-limit-remaining")
DEFAULT_WAIT = 60.0  # a 429 that says nothing of when to come back
MAX_RETRIES = 5  # 429s and server errors in a row before a call gives up


def _number(value) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def reset_at(headers: Mapping[str, str], now: float) -> float | None:
    """When the rate-limit window reopens (epoch seconds), from the headers; None if they do not say."""
    lower = {k.lower(): v for k, v in headers.items()}
    for name in RESET_HEADERS:
        value = _number(lower.get(name))
        if value is not None:
            return value
    after = _number(lower.get("retry-after"))
    return now + after if after is not None else None


def exhausted(headers: Mapping[str, str]) -> bool:
    """Whether the headers say no call is left in this window."""
    lower = {k.lower(): v for k, v in headers.items()}
    return any(_number(lower.get(name)) == 0 for name in REMAINING_HEADERS)


@dataclass
class Waiter:
    """Waits out rate limits: ``sleep`` and ``clock`` are injectable; ``show(why, done, total)``
    is called about once a second while waiting (the CLI draws a progress bar with it).

    Attributes:
        waited: every wait taken, in seconds (what a run reports, and what tests check).
    """

    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.time
    show: Callable[[str, float, float], None] | None = None
    waited: list[float] = field(default_factory=list)
    _next_free: float = 0.0

    def until(self, when: float | None, why: str) -> float:
        """Wait until epoch second ``when`` (a second past it; DEFAULT_WAIT when unknown)."""
        now = self.clock()
        total = max(0.0, (when + 1 - now) if when is not None else DEFAULT_WAIT)
        self.waited.append(total)
        done = 0.0
        while done < total:
            if self.show:
                self.show(why, done, total)
            step = min(1.0, total - done)
            self.sleep(step)
            done += step
        if self.show:
            self.show(why, total, total)
        return total

    def before_call(self, label: str) -> None:
        """Wait first when the last response said its window was used up."""
        if self._next_free and self.clock() < self._next_free:
            self.until(self._next_free - 1, f"{label}: rate limit used up, waiting for the window to reopen")
        self._next_free = 0.0

    def after_response(self, headers: Mapping[str, str]) -> None:
        """Remember when the window reopens if this response used it up."""
        if exhausted(headers):
            self._next_free = (reset_at(headers, self.clock()) or self.clock() + DEFAULT_WAIT) + 1

    def backoff(self, attempt: int, label: str) -> float:
        """A server error or a dropped connection: wait 2, 4, 8... seconds before trying again."""
        now = self.clock()
        return self.until(now + 2 ** (attempt + 1) - 1, f"{label}: server error, trying again")

    def rate_limited(self, headers: Mapping[str, str], label: str) -> float:
        """A 429: wait for the reset the headers name."""
        return self.until(reset_at(headers, self.clock()), f"{label}: rate limited (429), waiting for the reset")
