"""The one retry policy: exponential backoff, capped, within a budget (or without one).

The relay (a batch Kafka did not confirm), a sink's write (a server overloaded or away) and a
sink worker's outage loop (a batch kept while the server is down) all wait by this schedule,
so "how long does the platform wait, and how often does it try" has one answer and one test.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TypeVar

log = logging.getLogger("hindsight.retry")
T = TypeVar("T")


class RetriesExhausted(RuntimeError):
    """Still failing when the policy's budget was spent (chained to the last error)."""


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff with a budget; a budget of None means retry until it works."""

    initial_s: float = 0.2
    multiplier: float = 2.0
    max_backoff_s: float = 10.0
    budget_s: float | None = 60.0

    def delays(self) -> Iterator[float]:
        delay = self.initial_s
        while True:
            yield delay
            delay = min(delay * self.multiplier, self.max_backoff_s)


def with_backoff(
    attempt: Callable[[], T],
    policy: RetryPolicy,
    retryable: tuple[type[BaseException], ...],
    *,
    what: str,
    on_retry: Callable[[], None] | None = None,
    exhausted: Callable[[str], Exception] = RetriesExhausted,
) -> T:
    """Run `attempt` until it returns, retrying `retryable` errors within the policy's budget.

    Raises `exhausted(message)` (RetriesExhausted unless the caller names its own, e.g. a
    sink's SinkUnavailable), chained to the last error, once the budget is spent."""
    start = time.monotonic()
    for delay in policy.delays():
        try:
            return attempt()
        except retryable as err:
            elapsed = time.monotonic() - start
            if policy.budget_s is not None and elapsed + delay > policy.budget_s:
                raise exhausted(f"{what}: still failing after {elapsed:.1f} s: {err}") from err
            log.warning("%s failed (%s); retrying in %.2f s", what, err, delay)
            if on_retry is not None:
                on_retry()
            time.sleep(delay)
    raise AssertionError("unreachable")  # pragma: no cover
