"""The projection runtime's vocabulary: what a projection is, and what it emits.

A projection folds events into read-model documents. Each event is *routed* to the document
keys it affects (an order line touches the order and each product), each key's state is
*folded* by a pure function, and each fold emits `Output`s: a search document or a graph
change, stamped with a version that only grows. The same functions run inside the Flink job
(keyed state) and in the in-process reference projector (a dict), so tests can demand that
Elasticsearch and Neo4j equal the reference exactly.

Folds must not depend on the interleaving of *different* source streams (Kafka orders each
aggregate's events, nothing else): a document fed by several aggregates uses commutative
updates (counts, sums, joins that complete whichever side arrives first), and every state
remembers the last version it applied per source stream, so duplicates and replays are no-ops.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

Event = Mapping[str, Any]  # an envelope as a dict (Envelope.to_dict()), already validated
State = Any  # a projection's per-key state: JSON-able or at least picklable


@dataclass(frozen=True)
class Output:
    """One change for one sink: upsert `body` as document/graph element `id` of `target`.

    sink: "elasticsearch" (target = the index alias, e.g. "orders") or "neo4j" (target =
    a graph pattern name registered with the Neo4j sink, e.g. "order"). version grows with
    every fold of this key; sinks drop an output whose version is not newer than what they
    hold, so replays, duplicates and restarts never regress a read model.
    """

    sink: str
    target: str
    id: str
    version: int
    body: dict[str, Any]

    @property
    def kafka_key(self) -> str:
        return f"{self.sink}:{self.target}:{self.id}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "sink": self.sink,
            "target": self.target,
            "id": self.id,
            "version": self.version,
            "body": self.body,
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Output:
        return cls(
            str(d["sink"]), str(d["target"]), str(d["id"]), int(d["version"]), dict(d["body"])
        )


@dataclass(frozen=True)
class Projection:
    """A named fold: route events to keys, fold each key's state, render outputs.

    route(event) -> the keys (strings) of this projection the event affects, possibly several
                    (and possibly with a derived event per key: return (key, event) pairs).
    fold(state | None, key, event) -> new state (pure; must not mutate its input).
    render(key, state, version) -> the outputs for this key's current state.
    version: raise it with any change to route, fold or render that alters state or outputs.
             A job refuses to fold over state a different version built (pipelines.versions);
             `hindsight rebuild` builds the read models of the new one beside the live ones.
    """

    name: str
    route: Callable[[Event], Iterable[tuple[str, Event]]]
    fold: Callable[[State | None, str, Event], State]
    render: Callable[[str, State, int], list[Output]]
    event_types: frozenset[str] = field(default_factory=frozenset)
    version: int = 1
