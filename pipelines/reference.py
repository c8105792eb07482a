"""The reference projector: the same projections as the Flink job, folded in one process.

It is the oracle the end-to-end tests compare Elasticsearch and Neo4j against, so it must
chain stages exactly as the job does: a fold's INTERNAL outputs are events, routed with
`route_all` like any other, and folded before the next source event (the job may fold them
later; the projections are interleaving-independent, which the property tests check).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Protocol

from hindsight.events import Envelope
from pipelines.disclosure import OutputGuard
from pipelines.model import Event, Output, Projection
from pipelines.runtime import INTERNAL, KeyState, route_all, step

OutputKey = tuple[str, str, str]  # (sink, target, id)


class ReferenceProjector:
    """Folds events into per-(projection, key) states held in a dict; keeps the latest
    output per (sink, target, id), as the version-guarded sinks do."""

    def __init__(self, projections: Sequence[Projection], guard: OutputGuard | None = None) -> None:
        """`guard`: every read-model output is checked on the way out, and a field its contract
        does not release to the port raises PiiLeak (what the sink workers dead-letter)."""
        self.guard = guard
        self.projections = list(projections)
        self.by_name = {p.name: p for p in self.projections}
        self.states: dict[tuple[str, str], KeyState] = {}
        self._latest: dict[OutputKey, Output] = {}

    def feed(self, events: Iterable[Event]) -> ReferenceProjector:
        for event in events:
            self._one(event)
        return self

    def _one(self, event: Event) -> None:
        pending: deque[Event] = deque([event])
        while pending:
            current = pending.popleft()
            for name, key, routed in route_all(self.projections, current):
                state, outputs = step(self.by_name[name], self.states.get((name, key)), key, routed)
                self.states[(name, key)] = state
                for out in outputs:
                    if out.sink == INTERNAL:
                        pending.append(out.body)
                    else:
                        self._keep(out)

    def _keep(self, out: Output) -> None:
        if self.guard is not None:
            self.guard.check([out])
        k = (out.sink, out.target, out.id)
        held = self._latest.get(k)
        if held is None or out.version > held.version:
            self._latest[k] = out

    def outputs(self) -> dict[OutputKey, Output]:
        return dict(self._latest)


class _Store(Protocol):
    def read_all(self, from_position: int = 0, limit: int = 1000) -> list[Envelope]: ...


def project_store(
    store: _Store,
    projections: Sequence[Projection],
    *,
    page: int = 5000,
    guard: OutputGuard | None = None,
) -> dict[OutputKey, Output]:
    """Every output of the whole stored history, read in position order (upcast by the store)."""
    projector = ReferenceProjector(projections, guard)
    position = 0
    while batch := store.read_all(position, page):
        projector.feed(e.to_dict() for e in batch)
        position = batch[-1].position + 1
    return projector.outputs()


def bodies(outputs: Mapping[OutputKey, Output]) -> dict[OutputKey, dict[str, Any]]:
    """(sink, target, id) -> {"version", "body"}: what a read model should hold."""
    return {k: {"version": o.version, "body": o.body} for k, o in outputs.items()}
