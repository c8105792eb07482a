"""Upcasting: old events are never rewritten, they are translated on the way out.

The log is immutable, so a changed event schema cannot be migrated in place. Instead each
schema change registers one step ``(event_type, from_version) -> fn(data) -> data`` that lifts
the data by exactly one version; steps chain, so a version-1 row read by code that knows
version 4 passes through 1->2, 2->3 and 3->4. Every read path of the store applies the chain,
so domain code (evolve, projections, the relay) only ever sees current schemas.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

from hindsight.events import Envelope

Data = dict[str, Any]
UpcastFn = Callable[[Data], Data]


class UpcastError(Exception):
    """A registered step is missing or duplicated; failing loudly beats a half-upcast event."""


class Upcasters:
    """Registry of one-version steps per event type; empty registries cost one dict lookup."""

    def __init__(self) -> None:
        self._steps: dict[tuple[str, int], UpcastFn] = {}

    def register(self, event_type: str, from_version: int, fn: UpcastFn) -> None:
        key = (event_type, from_version)
        if key in self._steps:
            raise UpcastError(f"{event_type} v{from_version}: an upcaster is already registered")
        self._steps[key] = fn

    def step(self, event_type: str, from_version: int) -> Callable[[UpcastFn], UpcastFn]:
        """Decorator form of `register`."""

        def deco(fn: UpcastFn) -> UpcastFn:
            self.register(event_type, from_version, fn)
            return fn

        return deco

    def current_version(self, event_type: str, known: int = 1) -> int:
        """The version an event of `event_type` stored at `known` ends at after upcasting."""
        version = known
        while (event_type, version) in self._steps:
            version += 1
        return version

    def upcast_data(self, event_type: str, schema_version: int, data: Data) -> tuple[int, Data]:
        version = schema_version
        while (step := self._steps.get((event_type, version))) is not None:
            data = step(data)
            version += 1
        return version, data

    def upcast(self, envelope: Envelope) -> Envelope:
        if not self._steps or (envelope.event_type, envelope.schema_version) not in self._steps:
            return envelope
        version, data = self.upcast_data(
            envelope.event_type, envelope.schema_version, dict(envelope.data)
        )
        return replace(envelope, schema_version=version, data=data)

    def __bool__(self) -> bool:
        return bool(self._steps)
