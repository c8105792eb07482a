"""The generic fold step, shared by the Flink job (keyed state) and the reference projector.

Two kinds of events reach a fold:

* source events: envelopes from the event log. Delivery is at least once and streams
  interleave arbitrarily, so each key remembers the last version it applied per source stream
  (`KeyState.seen`) and drops anything not newer: a duplicate or replay is a no-op (no new
  state, no outputs, no version bump).
* internal events: what a projection of an earlier stage emits for a later one, as
  `Output(sink=INTERNAL, target=<consumer projection>, id=<consumer key>, body=<event>)`.
  They carry no `aggregate_type`, so they are not tracked in `seen`: they are produced only by
  a fold of a non-duplicate event, hence exactly once, and travel inside one job (Flink's
  checkpoints make operator-to-operator records exactly once; the reference projector is a
  loop). Deduplicating them here instead would need one `seen` entry per upstream key, e.g.
  one per order at every product: the unbounded state this split exists to avoid.

A key's version counts the distinct events folded into it. Each source event is folded once
and each internal event is emitted once, whatever the interleaving, so the final version of
every key (and the outputs stamped with it) is interleaving-independent.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pipelines.model import Event, Output, Projection

INTERNAL = "internal"  # Output.sink of an event for a later stage, not for a read model


@dataclass(slots=True)
class KeyState:
    """One (projection, key)'s state as Flink pickles it into RocksDB on every fold.

    seen: source stream ("aggregate_type/aggregate_id") -> last version applied. Routing keeps
    it to a handful of entries per key (see commerce.read.projections), so no pruning is
    needed and none is done: dropping an entry would let a late duplicate fold twice.
    """

    inner: Any
    version: int
    seen: dict[str, int]

    def __reduce__(self) -> tuple[Any, ...]:
        # a constructor call: smaller and faster than the slots dataclass default
        return (KeyState, (self.inner, self.version, self.seen))


def stream_of(event: Event) -> str | None:
    """The source stream an event belongs to, or None for an internal event."""
    aggregate_type = event.get("aggregate_type")
    if aggregate_type is None:
        return None
    return f"{aggregate_type}/{event['aggregate_id']}"


def step(
    projection: Projection, key_state: KeyState | None, key: str, event: Event
) -> tuple[KeyState, list[Output]]:
    """Fold one event into one key. A duplicate returns the *same* KeyState object and no
    outputs, so a caller can skip the state write with `new is not old`."""
    state = key_state if key_state is not None else KeyState(None, 0, {})
    stream = stream_of(event)
    seen = state.seen
    if stream is not None:
        version = int(event["version"])
        if version <= seen.get(stream, 0):
            return state, []
        seen = {**seen, stream: version}
    inner = projection.fold(state.inner, key, event)
    new = KeyState(inner, state.version + 1, seen)
    return new, projection.render(key, inner, new.version)


def route_all(projections: Sequence[Projection], event: Event) -> list[tuple[str, str, Event]]:
    """Every (projection name, key, event to fold) this event feeds, source or internal."""
    event_type = event.get("event_type")
    routed: list[tuple[str, str, Event]] = []
    for p in projections:
        if p.event_types and event_type not in p.event_types:
            continue
        for key, derived in p.route(event):
            routed.append((p.name, key, derived))
    return routed


def internal(target: str, key: str, version: int, event_type: str, data: dict[str, Any]) -> Output:
    """An event for projection `target`'s key `key` in a later stage."""
    return Output(INTERNAL, target, key, version, {"event_type": event_type, "data": data})


def stages_of(
    projections: Iterable[Projection], feeds: Mapping[str, Iterable[str]]
) -> list[list[Projection]]:
    """Group projections into stages so that every internal edge (emitter -> consumer, from
    `feeds`) goes from stage i to stage i + 1 exactly: the shape the Flink job chains.

    A consumer is placed one stage after its latest emitter; an edge that would skip a stage
    or a cycle is refused, because the job only passes stage i's outputs to stage i + 1.
    """
    by_name = {p.name: p for p in projections}
    depth: dict[str, int] = {}

    def place(name: str, path: tuple[str, ...]) -> int:
        if name in path:
            raise ValueError(f"internal events form a cycle: {' -> '.join((*path, name))}")
        if name not in depth:
            emitters = [e for e, targets in feeds.items() if name in targets]
            depth[name] = 1 + max((place(e, (*path, name)) for e in emitters), default=-1)
        return depth[name]

    for name in by_name:
        place(name, ())
    for emitter, targets in feeds.items():
        for target in targets:
            if depth[target] != depth[emitter] + 1:
                raise ValueError(f"{emitter} -> {target} skips a stage; the job cannot chain it")
    levels: list[list[Projection]] = [[] for _ in range(1 + max(depth.values(), default=-1))]
    for name, p in by_name.items():
        levels[depth[name]].append(p)
    return levels
