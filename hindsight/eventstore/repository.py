"""Loading aggregates (snapshot + later events) and handling commands against them.

Snapshot format choice: the `Aggregate` protocol stays three pure functions, and the state
stays whatever the domain likes. A `SnapshotCodec` per aggregate type converts state to JSON
and back, and carries `snapshot_version`, the schema of that JSON: bump it whenever the state
shape or the evolve logic changes, and every older snapshot is ignored (loads fall back to a
replay and the next snapshot is taken in the new schema). Aggregates without a registered codec
use the identity codec, which is right for states that are already JSON values (dicts, lists,
numbers, strings); dataclass states register a codec (`dataclass_codec` covers flat ones).
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar

from hindsight.aggregate import Aggregate
from hindsight.events import Envelope
from hindsight.eventstore.base import AppendResult, ConcurrencyError, EventStore, Snapshot
from hindsight.storable import UnstorableValue

log = logging.getLogger("hindsight.eventstore")

S = TypeVar("S")


@dataclass(frozen=True)
class SnapshotCodec(Generic[S]):
    """How one aggregate type's state becomes JSON, and which schema that JSON has."""

    snapshot_version: int = 1
    to_json: Callable[[S], Any] = lambda state: state
    from_json: Callable[[Any], S] = lambda data: data


def dataclass_codec(cls: type[S], snapshot_version: int = 1) -> SnapshotCodec[S]:
    """Codec for a dataclass state whose fields are JSON values."""
    return SnapshotCodec(
        snapshot_version=snapshot_version,
        to_json=lambda state: dataclasses.asdict(state),  # type: ignore[call-overload]
        from_json=lambda data: cls(**data),
    )


@dataclass(frozen=True)
class Loaded(Generic[S]):
    """An aggregate's state and the stream version it reflects (the next expected version)."""

    state: S
    version: int
    from_snapshot: int = 0  # version of the snapshot the load started from (0: full replay)


class Repository:
    """Aggregates of any type over one store; snapshots every `snapshot_every` events."""

    def __init__(
        self,
        store: EventStore,
        *,
        snapshot_every: int | None = 100,
        codecs: Mapping[str, SnapshotCodec[Any]] | None = None,
    ) -> None:
        if snapshot_every is not None and snapshot_every < 1:
            raise ValueError("snapshot_every must be >= 1 (or None to disable snapshots)")
        self.store = store
        self.snapshot_every = snapshot_every
        self.codecs: dict[str, SnapshotCodec[Any]] = dict(codecs or {})

    def codec(self, aggregate: Aggregate[Any]) -> SnapshotCodec[Any]:
        return self.codecs.get(aggregate.aggregate_type) or _IDENTITY

    # -- loading ---------------------------------------------------------------------------
    def load(
        self,
        aggregate: Aggregate[S],
        aggregate_id: str,
        *,
        as_of_version: int | None = None,
        as_of_time: datetime | None = None,
        use_snapshots: bool = True,
    ) -> Loaded[S]:
        """State now, or as of a version, or as recorded at a time (both: the earlier wins).

        Time travel goes by recorded_at (see `EventStore.version_at`), so the answer is what
        the system knew at that moment. The version of a loaded past is that of the last event
        folded, which may be lower than asked for when the stream was shorter then.
        """
        limit = as_of_version
        if as_of_time is not None:
            at_time = self.store.version_at(aggregate.aggregate_type, aggregate_id, as_of_time)
            limit = at_time if limit is None else min(limit, at_time)
        if limit is not None and limit <= 0:
            return Loaded(aggregate.initial(), 0)
        state, version, snap = aggregate.initial(), 0, 0
        if use_snapshots and self.snapshot_every is not None:
            codec = self.codec(aggregate)
            found = self.store.load_snapshot(
                aggregate.aggregate_type, aggregate_id, codec.snapshot_version, limit
            )
            if found is not None:
                state, version, snap = codec.from_json(found.state), found.version, found.version
        events = self.store.read_stream(aggregate.aggregate_type, aggregate_id, version + 1, limit)
        state = _fold(aggregate, state, events)
        if events:
            version = events[-1].version
        return Loaded(state, version, snap)

    def snapshot(self, aggregate: Aggregate[S], aggregate_id: str, loaded: Loaded[S]) -> None:
        codec = self.codec(aggregate)
        self.store.save_snapshot(
            Snapshot(
                aggregate.aggregate_type,
                aggregate_id,
                loaded.version,
                codec.snapshot_version,
                codec.to_json(loaded.state),
            )
        )

    # -- the command side ------------------------------------------------------------------
    def handle(
        self,
        aggregate: Aggregate[S],
        aggregate_id: str,
        command: Any,
        expected_version: int | None = None,
        idempotency_key: str | None = None,
        *,
        correlation_id: str | None = None,
        causation_id: str | None = None,
    ) -> AppendResult:
        """Load, decide, append at the loaded version; the whole command side of a service.

        `expected_version` is the version the caller last saw (e.g. an HTTP If-Match); a stale
        one fails before deciding. A retried `idempotency_key` returns the first result
        without deciding again (deciding again on the new state could reject a command that
        in fact succeeded). DomainError from `decide` propagates; nothing is written then.
        """
        if idempotency_key is not None:
            stored = self.store.idempotent_result(idempotency_key)
            if stored is not None:
                return stored[0]
        loaded = self.load(aggregate, aggregate_id)
        if expected_version is not None and expected_version != loaded.version:
            raise ConcurrencyError(
                aggregate.aggregate_type, aggregate_id, expected_version, loaded.version
            )
        events = list(aggregate.decide(loaded.state, command))
        result = self.store.append(
            aggregate.aggregate_type,
            aggregate_id,
            loaded.version,
            events,
            idempotency_key=idempotency_key,
            correlation_id=correlation_id,
            causation_id=causation_id,
        )
        self.snapshot_if_due(aggregate, aggregate_id, loaded, result)
        return result

    def snapshot_if_due(
        self,
        aggregate: Aggregate[S],
        aggregate_id: str,
        before: Loaded[S],
        result: AppendResult,
    ) -> None:
        """Snapshot when the append crossed a multiple of N: one snapshot per N events.

        Public because a caller that appends for the repository (the command handler's
        multi-stream transaction) owes the same snapshots as `handle` takes itself."""
        every = self.snapshot_every
        if (
            every is None
            or not result.envelopes
            or result.version // every == before.version // every
        ):
            return
        upcast = [self.store.upcasters.upcast(e) for e in result.envelopes]
        state = _fold(aggregate, before.state, upcast)
        try:
            self.snapshot(aggregate, aggregate_id, Loaded(state, result.version))
        except UnstorableValue as err:
            # the events are already committed; a snapshot is only a shortcut for loads, and
            # a state holding text the backend cannot keep (stored before it was refused)
            # must not turn every later command on this aggregate into an error
            log.warning("no snapshot of %s %s: %s", aggregate.aggregate_type, aggregate_id, err)


_IDENTITY: SnapshotCodec[Any] = SnapshotCodec()


def _fold(aggregate: Aggregate[S], state: S, events: list[Envelope]) -> S:
    evolve = aggregate.evolve
    for e in events:
        state = evolve(state, e.event_type, e.data)
    return state
