"""An aggregate is three pure functions; the platform needs nothing else from a domain.

`decide(state, command) -> [NewEvent]` enforces the invariants (raising a DomainError),
`evolve(state, envelope.data-level event) -> state` folds history, `initial()` is the state of
a stream with no events. The store, the service and the projections are written against this.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from hindsight.events import NewEvent

S = TypeVar("S")


class DomainError(Exception):
    """A command broke an invariant. `code` is stable (for APIs), the message says why."""

    code: str = "domain_error"

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        if code:
            self.code = code


@dataclass(frozen=True)
class Aggregate(Generic[S]):
    """One aggregate type of a domain: its name and its pure functions."""

    aggregate_type: str
    domain: str
    initial: Callable[[], S]
    decide: Callable[[S, Any], Sequence[NewEvent]]
    evolve: Callable[[S, str, dict[str, Any]], S]  # (state, event_type, data) -> state

    def fold(self, events: Sequence[tuple[str, dict[str, Any]]], state: S | None = None) -> S:
        current = self.initial() if state is None else state
        for event_type, data in events:
            current = self.evolve(current, event_type, data)
        return current
