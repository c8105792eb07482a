"""The event store: append-only log with optimistic concurrency, snapshots and upcasting.

`open_store(settings, "sqlite" | "postgres")` opens a backend; `Repository` loads aggregates
and handles commands on top of any backend.
"""

from hindsight.eventstore.base import (
    AppendResult,
    ConcurrencyError,
    EventStore,
    EventStoreError,
    IdempotencyKeyReused,
    Snapshot,
    StreamAppend,
)
from hindsight.eventstore.factory import open_store
from hindsight.eventstore.repository import (
    Loaded,
    Repository,
    SnapshotCodec,
    dataclass_codec,
)
from hindsight.eventstore.upcasting import UpcastError, Upcasters

__all__ = [
    "AppendResult",
    "ConcurrencyError",
    "EventStore",
    "EventStoreError",
    "IdempotencyKeyReused",
    "Loaded",
    "Repository",
    "Snapshot",
    "SnapshotCodec",
    "StreamAppend",
    "UpcastError",
    "Upcasters",
    "dataclass_codec",
    "open_store",
]
