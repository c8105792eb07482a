"""The event store port: one API, two backends (SQLite embedded, PostgreSQL server).

Guarantees every backend gives (the contract suite in tests/eventstore_contract.py checks them):

- optimistic concurrency: an append names the version it expects the stream to be at; any other
  version raises `ConcurrencyError` and writes nothing (never a silent overwrite);
- `version` is gapless per stream from 1, `position` is global, gapless and strictly increasing
  in *commit order*, so "everything after position N" never skips an event that commits later;
- idempotency: an append carrying an `idempotency_key` already used returns the first append's
  result and writes nothing (the key is stored with the position range it produced);
- reads upcast: every read path returns events at their current schema version;
- crypto-shredding (with a `Policy` from the contracts, hindsight.shredding): the fields it
  names are stored sealed under their subject's key, created in the append's transaction; an
  erasing event destroys the key in the transaction that appends it; reads open them (null once
  erased); `stored()` is the log as stored, for the relay (Kafka never sees a clear value);
  snapshots of a subject with a key are sealed whole.
"""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

import orjson

from hindsight.events import Envelope, NewEvent
from hindsight.eventstore.upcasting import Upcasters
from hindsight.shredding import (
    NO_POLICY,
    Policy,
    is_sealed,
    needs_key,
    needs_sealing,
    open_data,
    seal,
    seal_data,
    subject_of,
    unseal,
)
from hindsight.storable import check_text, refuse_unstorable

SEALED_STATE = "$sealed"  # a sealed snapshot's state: {SEALED_STATE: "hs1:..."}

_STDLIB_DUMPS = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode


def dumps_json(value: Any, path: str = "") -> str:
    """Compact JSON text for an event payload or a snapshot state.

    orjson is ~10x cheaper than the stdlib encoder, which profiling showed to be half the CPU
    of a 100-event append. `OPT_NON_STR_KEYS` keeps the stdlib's int-key behaviour; what
    orjson refuses (integers beyond 64 bits) goes through the stdlib encoder instead, so no
    payload the store accepted before is rejected now. One visible difference: NaN and
    Infinity are written as null (valid JSON, and what PostgreSQL's jsonb can store at all).

    Text no backend can keep (`hindsight.storable`) raises UnstorableValue naming the field under
    `path`: orjson refuses lone surrogates itself, and a NUL shows as `\\u0000` in its output,
    so the exact (slower) scan runs only when either happened.
    """
    try:
        out = orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()
    except TypeError:  # orjson.JSONEncodeError is a TypeError
        refuse_unstorable(value, path)
        out = _STDLIB_DUMPS(value)
    if "\\u0000" in out:  # or a user's literal backslash-u0000, which is fine: look closer
        refuse_unstorable(value, path)
    return out


def loads_json(text: str | bytes) -> Any:
    """Parse stored JSON; orjson for speed, the stdlib for what only it reads (NaN, Infinity)."""
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return json.loads(text)


class EventStoreError(Exception):
    """Base class of the store's own errors."""


class ConcurrencyError(EventStoreError):
    """The stream is not at the expected version: someone else appended first."""

    def __init__(self, aggregate_type: str, aggregate_id: str, expected: int, actual: int) -> None:
        super().__init__(
            f"stream {aggregate_type}/{aggregate_id}: expected version {expected}, "
            f"actual version {actual}"
        )
        self.aggregate_type = aggregate_type
        self.aggregate_id = aggregate_id
        self.expected = expected
        self.actual = actual


class IdempotencyKeyReused(EventStoreError):
    """A key already answered for other streams: a client bug, not a retry."""


@dataclass(frozen=True)
class StreamAppend:
    """One stream's part of an atomic multi-stream append."""

    aggregate_type: str
    aggregate_id: str
    expected_version: int
    events: Sequence[NewEvent]


@dataclass(frozen=True)
class AppendResult:
    """What one stream got from an append. Positions are None when no event was written."""

    aggregate_type: str
    aggregate_id: str
    version: int
    first_position: int | None
    last_position: int | None
    envelopes: tuple[Envelope, ...] = ()


@dataclass(frozen=True)
class Snapshot:
    """An aggregate's folded state at `version`; `snapshot_version` is the state's schema.

    Loaders ask for the schema they understand, so bumping it invalidates every old snapshot
    without touching the table (they are simply not found, and the next snapshot replaces them).
    """

    aggregate_type: str
    aggregate_id: str
    version: int
    snapshot_version: int
    state: Any
    recorded_at: datetime | None = field(default=None, compare=False)


class EventStore(ABC):
    """The port. Backends implement the abstract methods; the rest is shared behaviour."""

    def __init__(self, upcasters: Upcasters | None = None, policy: Policy = NO_POLICY) -> None:
        self.upcasters = upcasters if upcasters is not None else Upcasters()
        self.policy = policy

    # -- writing ---------------------------------------------------------------------------
    def append(
        self,
        aggregate_type: str,
        aggregate_id: str,
        expected_version: int,
        events: Sequence[NewEvent],
        *,
        idempotency_key: str | None = None,
        correlation_id: str | None = None,
        causation_id: str | None = None,
    ) -> AppendResult:
        """Append to one stream; see `append_many` for the semantics."""
        request = StreamAppend(aggregate_type, aggregate_id, expected_version, events)
        (result,) = self.append_many(
            [request],
            idempotency_key=idempotency_key,
            correlation_id=correlation_id,
            causation_id=causation_id,
        )
        return result

    def append_many(
        self,
        appends: Sequence[StreamAppend],
        *,
        idempotency_key: str | None = None,
        correlation_id: str | None = None,
        causation_id: str | None = None,
    ) -> list[AppendResult]:
        """Append to several streams in ONE transaction: all or nothing.

        Process managers need this: "reserve stock and mark the order reserved" must not leave
        one half written. Each stream is checked against its own expected version; a single
        mismatch raises `ConcurrencyError` and nothing is written.
        """
        _check_requests(appends)
        check_text(idempotency_key, "idempotency_key")
        check_text(correlation_id, "correlation_id")
        check_text(causation_id, "causation_id")
        stored = self.stored_answer(idempotency_key, appends)
        if stored is not None:
            return stored
        return self._opened_results(
            self._append(appends, idempotency_key, correlation_id, causation_id)
        )

    def _opened_results(self, results: list[AppendResult]) -> list[AppendResult]:
        """The caller gets its events as decided (opened), never as stored: it folds them."""
        if not self.policy.sealed:
            return results
        return [
            replace(r, envelopes=tuple(self._opened(list(r.envelopes)))) if r.envelopes else r
            for r in results
        ]

    @abstractmethod
    def _append(
        self,
        appends: Sequence[StreamAppend],
        idempotency_key: str | None,
        correlation_id: str | None,
        causation_id: str | None,
    ) -> list[AppendResult]:
        """Write atomically; on a key that raced in meanwhile return the stored result."""

    def stored_answer(
        self, idempotency_key: str | None, appends: Sequence[StreamAppend]
    ) -> list[AppendResult] | None:
        """What an append with this key already got, matched to `appends` (refused with
        IdempotencyKeyReused when the key served other streams); None for a fresh key."""
        if idempotency_key is None:
            return None
        stored = self.idempotent_result(idempotency_key)
        return None if stored is None else match_stored(idempotency_key, appends, stored)

    def idempotent_result(self, idempotency_key: str) -> list[AppendResult] | None:
        """The result an earlier append with this key produced (events opened, not upcast)."""
        span = self._idempotency_span(idempotency_key)
        if span is None:
            return None
        return results_from_envelopes(self._opened(self._read_positions(*span)))

    @abstractmethod
    def _idempotency_span(self, idempotency_key: str) -> tuple[int, int] | None: ...

    @abstractmethod
    def _read_positions(self, first: int, last: int) -> list[Envelope]:
        """Raw (not upcast) envelopes with first <= position <= last, in position order."""

    # -- reading ---------------------------------------------------------------------------
    def read_stream(
        self,
        aggregate_type: str,
        aggregate_id: str,
        from_version: int = 1,
        to_version: int | None = None,
    ) -> list[Envelope]:
        """Events of one stream with from_version <= version <= to_version, opened, upcast."""
        raw = self._read_stream(aggregate_type, aggregate_id, from_version, to_version)
        return self._upcast_all(self._opened(raw))

    def read_all(self, from_position: int = 0, limit: int = 1000) -> list[Envelope]:
        """Up to `limit` events with position >= from_position (inclusive), in log order, upcast.

        Positions start at 1, so the default reads from the beginning; a relay that published
        up to P resumes with `from_position=P + 1`.
        """
        return self._upcast_all(self._opened(self._read_all(from_position, limit)))

    def read_stored(self, from_position: int = 0, limit: int = 1000) -> list[Envelope]:
        """`read_all` with sealed fields left sealed: what the relay publishes."""
        return self._upcast_all(self._read_all(from_position, limit))

    def stored(self) -> StoredLog:
        """The log as stored (sealed fields sealed), with `read_all` and `last_position`."""
        return StoredLog(self)

    # -- crypto-shredding ------------------------------------------------------------------
    def _opened(self, envelopes: list[Envelope]) -> list[Envelope]:
        """Sealed fields opened with their subjects' keys (one query per read); opened
        before upcasting, under the names they were sealed with."""
        policy = self.policy
        if not policy.sealed:
            return envelopes
        sealed = [needs_key(policy, e.event_type, e.data) for e in envelopes]
        if not any(sealed):
            return envelopes
        keys = self._keys({subject_of(e.aggregate_type, e.aggregate_id)
                           for e, s in zip(envelopes, sealed, strict=True) if s})  # fmt: skip
        out = []
        for e, s in zip(envelopes, sealed, strict=True):
            if s:
                subject = subject_of(e.aggregate_type, e.aggregate_id)
                e = replace(e, data=open_data(policy, keys.get(subject), subject,
                                              e.event_type, e.data))  # fmt: skip
            out.append(e)
        return out

    def _sealed(
        self, appends: Sequence[StreamAppend], key_of: Callable[[str], bytes | None]
    ) -> list[StreamAppend]:
        """`appends` with their sealed fields sealed; `key_of(subject)` gets or creates the
        key inside the append's transaction (None once the subject was erased: such fields
        are stored as null). A key is made only for a subject with a value to seal."""
        policy = self.policy
        out = []
        for a in appends:
            if not policy.sealed or not any(
                needs_sealing(policy, e.event_type, e.data) for e in a.events
            ):
                out.append(a)
                continue
            subject = subject_of(a.aggregate_type, a.aggregate_id)
            key = key_of(subject)
            events = [
                replace(e, data=seal_data(policy, key, subject, e.event_type, e.data))
                if policy.fields(e.event_type)
                else e
                for e in a.events
            ]
            out.append(replace(a, events=events))
        return out

    def _erasing(self, appends: Sequence[StreamAppend]) -> list[str]:
        """The subjects whose keys these appends destroy."""
        erasing = self.policy.erasing
        return [
            subject_of(a.aggregate_type, a.aggregate_id)
            for a in appends
            if any(e.event_type in erasing for e in a.events)
        ]

    def _keys(self, subjects: Iterable[str]) -> dict[str, bytes | None]:
        """The subjects' keys as stored (None: none, or erased)."""
        raise NotImplementedError(f"{type(self).__name__} keeps no subject keys")

    def _upcast_all(self, envelopes: list[Envelope]) -> list[Envelope]:
        if not self.upcasters:
            return envelopes
        return [self.upcasters.upcast(e) for e in envelopes]

    @abstractmethod
    def _read_stream(
        self, aggregate_type: str, aggregate_id: str, from_version: int, to_version: int | None
    ) -> list[Envelope]: ...

    @abstractmethod
    def _read_all(self, from_position: int, limit: int) -> list[Envelope]: ...

    @abstractmethod
    def stream_version(self, aggregate_type: str, aggregate_id: str) -> int:
        """Current version of a stream; 0 when it has no events."""

    @abstractmethod
    def version_at(self, aggregate_type: str, aggregate_id: str, at: datetime) -> int:
        """The stream's version as recorded at time `at` (recorded_at <= at); 0 if none.

        recorded_at, not occurred_at: it answers "what did the system know at t", it is
        assigned by the store under the append lock so it never decreases along a stream, and
        a late-arriving event with an old occurred_at cannot rewrite the past.
        """

    @abstractmethod
    def last_position(self) -> int:
        """Position of the newest event in the log; 0 when empty."""

    @abstractmethod
    def event_counts(self, since: datetime | None = None) -> dict[str, int]:
        """Events per aggregate type (recorded at or after `since`, if given): what a check
        needs to know that there was something to see (a contract test with no sample while
        the store holds events is a breach, not a pass)."""

    # -- snapshots -------------------------------------------------------------------------
    def save_snapshot(self, snapshot: Snapshot) -> None:
        """Store (or replace, for the same stream and version) a snapshot; sealed whole when
        its aggregate is a data subject with a key (the state holds their personal data)."""
        if self.policy.sealed:
            subject = subject_of(snapshot.aggregate_type, snapshot.aggregate_id)
            key = self._keys([subject]).get(subject)
            if key is not None:
                sealed = seal(key, subject, SEALED_STATE, snapshot.state)
                snapshot = replace(snapshot, state={SEALED_STATE: sealed})
        self._save_snapshot(snapshot)

    def load_snapshot(
        self,
        aggregate_type: str,
        aggregate_id: str,
        snapshot_version: int,
        max_version: int | None = None,
    ) -> Snapshot | None:
        """The newest snapshot with this schema and version <= max_version (if given). A
        sealed one whose key is gone is no snapshot: the load replays the events instead."""
        found = self._load_snapshot(aggregate_type, aggregate_id, snapshot_version, max_version)
        state = found.state if found is not None else None
        if not (isinstance(state, dict) and is_sealed(state.get(SEALED_STATE))):
            return found
        assert found is not None
        subject = subject_of(aggregate_type, aggregate_id)
        key = self._keys([subject]).get(subject)
        if key is None:
            return None
        return replace(found, state=unseal(key, subject, SEALED_STATE, state[SEALED_STATE]))

    @abstractmethod
    def _save_snapshot(self, snapshot: Snapshot) -> None: ...

    @abstractmethod
    def _load_snapshot(
        self,
        aggregate_type: str,
        aggregate_id: str,
        snapshot_version: int,
        max_version: int | None,
    ) -> Snapshot | None: ...

    # -- lifecycle -------------------------------------------------------------------------
    @abstractmethod
    def close(self) -> None: ...

    def __enter__(self) -> EventStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class StoredLog:
    """A store's log as stored: the relay's view (it publishes sealed fields sealed)."""

    def __init__(self, store: EventStore) -> None:
        self.store = store

    def read_all(self, from_position: int = 0, limit: int = 1000) -> list[Envelope]:
        return self.store.read_stored(from_position, limit)

    def last_position(self) -> int:
        return self.store.last_position()


def _check_requests(appends: Sequence[StreamAppend]) -> None:
    streams = [(a.aggregate_type, a.aggregate_id) for a in appends]
    if len(set(streams)) != len(streams):
        raise ValueError("append_many: a stream may appear only once per call")
    for a in appends:
        if a.expected_version < 0:
            raise ValueError(f"expected_version must be >= 0, got {a.expected_version}")
        check_text(a.aggregate_type, "aggregate_type")
        check_text(a.aggregate_id, "aggregate_id")
        for event_type in {e.event_type for e in a.events}:  # a batch repeats a few types
            check_text(event_type, "event_type")


def match_stored(
    key: str, appends: Sequence[StreamAppend], stored: list[AppendResult]
) -> list[AppendResult]:
    by_stream = {(r.aggregate_type, r.aggregate_id): r for r in stored}
    wanted = [(a.aggregate_type, a.aggregate_id) for a in appends if a.events]
    if set(wanted) != set(by_stream):
        raise IdempotencyKeyReused(
            f"idempotency key {key!r} was used for {sorted(by_stream)}, now for {sorted(wanted)}"
        )
    out: list[AppendResult] = []
    for a in appends:
        result = by_stream.get((a.aggregate_type, a.aggregate_id))
        out.append(result or empty_result(a))
    return out


def results_from_envelopes(envelopes: Iterable[Envelope]) -> list[AppendResult]:
    """Group an append's envelopes (position order) back into per-stream results."""
    groups: dict[tuple[str, str], list[Envelope]] = {}
    for e in envelopes:
        groups.setdefault((e.aggregate_type, e.aggregate_id), []).append(e)
    return [
        AppendResult(t, i, envs[-1].version, envs[0].position, envs[-1].position, tuple(envs))
        for (t, i), envs in groups.items()
    ]


def empty_result(a: StreamAppend) -> AppendResult:
    return AppendResult(a.aggregate_type, a.aggregate_id, a.expected_version, None, None)
