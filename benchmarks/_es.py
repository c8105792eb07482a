"""The eventsourcing library side of the store benchmark, configured by its own env variables."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

from eventsourcing.application import Application
from eventsourcing.domain import Aggregate, event
from eventsourcing.persistence import StoredEvent
from eventsourcing.sqlite import SQLiteConnectionPool

from hindsight.settings import Settings


class Counter(Aggregate):
    def __init__(self) -> None:
        self.total = 0

    @event("Added")
    def add(self, amount: int) -> None:
        self.total += amount


class Counters(Application[UUID]):
    name = "Counters"


class SnapshottingCounters(Application[UUID]):
    name = "Counters"  # same tables as Counters
    snapshotting_intervals = {Counter: 100}  # noqa: RUF012 - the library's own class attribute


def env(backend: str, settings: Settings, sqlite_path: Path, pg_schema: str) -> dict[str, str]:
    if backend == "sqlite":
        return {"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": str(sqlite_path)}
    return {
        "PERSISTENCE_MODULE": "eventsourcing.postgres",
        "POSTGRES_DBNAME": settings.postgres_db,
        "POSTGRES_HOST": settings.host,
        "POSTGRES_PORT": str(settings.postgres_port),
        "POSTGRES_USER": settings.postgres_user,
        "POSTGRES_PASSWORD": settings.postgres_password,
        "POSTGRES_SCHEMA": pg_schema,
    }


@contextmanager
def sqlite_synchronous(level: str) -> Iterator[None]:
    """Every SQLite connection the library opens meanwhile gets `pragma synchronous=level`.

    The library has no setting for it (it leaves SQLite's default, FULL); the benchmark needs
    both libraries at the same durability, so it sets the pragma where the library's pool
    opens a connection."""
    opener = SQLiteConnectionPool._create_connection

    def with_level(pool: SQLiteConnectionPool) -> Any:
        conn = opener(pool)
        conn._sqlite_conn.execute(f"pragma synchronous={level}")
        return conn

    SQLiteConnectionPool._create_connection = with_level  # type: ignore[method-assign]
    try:
        yield
    finally:
        SQLiteConnectionPool._create_connection = opener  # type: ignore[method-assign]


def sqlite_pragma(app: Application[UUID], name: str) -> Any:
    """A pragma as the library's own pooled connections see it (pragmas are per connection)."""
    with app.recorder.datastore.get_connection(commit=False) as conn:  # type: ignore[attr-defined]
        return conn._sqlite_conn.execute(f"pragma {name}").fetchone()[0]


def append_single(app: Application[UUID], n: int) -> int:
    counter = Counter()
    app.save(counter)
    for _ in range(n):
        counter.add(1)
        app.save(counter)
    return n


def append_batches(app: Application[UUID], batches: int, size: int) -> int:
    counter = Counter()
    app.save(counter)
    for _ in range(batches):
        for _ in range(size):
            counter.add(1)
        app.save(counter)
    return batches * size


def recorder_append(app: Application[UUID], batches: int, size: int) -> int:
    """The library's recorder alone (no aggregate, no mapper): its storage floor."""
    recorder: Any = app.recorder
    originator = uuid4()
    version = 0
    for _ in range(batches):
        stored = []
        for _ in range(size):
            version += 1
            stored.append(StoredEvent(originator, version, "bench:Added", b'{"amount":1}'))
        recorder.insert_events(stored)
    return batches * size


def build_stream(app: Application[UUID], n: int) -> UUID:
    """A stream of n events (creation + n-1 adds), saved whenever the version hits 100k."""
    counter = Counter()
    while counter.version < n:
        counter.add(1)
        if counter.version % 100 == 0:
            app.save(counter)
    app.save(counter)
    return counter.id


def load_total(app: Application[UUID], aggregate_id: UUID) -> int:
    counter: Counter = app.repository.get(aggregate_id)
    return counter.total


def mapper_recorder_append(app: Application[UUID], batches: int, size: int) -> int:
    """The library's storage path under save: domain events through its mapper into stored
    events, then `recorder.insert_events`, without Application.save's bookkeeping. The
    like-for-like counterpart of Hindsight's `store.append` (which takes ready event data)."""
    recorder: Any = app.recorder
    counter = Counter()
    recorder.insert_events([app.mapper.to_stored_event(e) for e in counter.collect_events()])
    for _ in range(batches):
        for _ in range(size):
            counter.add(1)
        stored = [app.mapper.to_stored_event(e) for e in counter.collect_events()]
        recorder.insert_events(stored)
    return batches * size
