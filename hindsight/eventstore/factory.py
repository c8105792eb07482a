"""Opening the configured backend, so services name a backend and nothing else.

The backend is an argument rather than a setting because the settings module belongs to the
whole platform; when it grows an `eventstore_backend` field, pass it here.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from hindsight.eventstore.base import EventStore
from hindsight.eventstore.sqlite import SQLiteEventStore, SQLiteKeyReader
from hindsight.eventstore.upcasting import Upcasters
from hindsight.settings import Settings, get_settings
from hindsight.shredding import NO_POLICY, KeyReader, Policy

Backend = Literal["sqlite", "postgres"]


def default_sqlite_path(settings: Settings) -> Path:
    return settings.home / "eventstore.sqlite"


def open_store(
    settings: Settings | None = None,
    backend: Backend = "sqlite",
    *,
    upcasters: Upcasters | None = None,
    sqlite_path: Path | None = None,
    postgres_schema: str | None = None,
    policy: Policy = NO_POLICY,
) -> EventStore:
    """SQLite: a file in the state dir (WAL). PostgreSQL: `settings.postgres_dsn`, in
    `settings.postgres_schema` unless `postgres_schema` names another. `policy`: what the
    contracts seal (hindsight.contracts.sealing)."""
    s = settings or get_settings()
    if backend == "sqlite":
        return SQLiteEventStore(
            sqlite_path or default_sqlite_path(s),
            upcasters=upcasters,
            policy=policy,
            synchronous=s.sqlite_synchronous,
        )
    if backend == "postgres":
        from hindsight.eventstore.postgres import PostgresEventStore  # lazy: psycopg, 0.5 s

        return PostgresEventStore(
            s.postgres_dsn,
            schema=postgres_schema or s.postgres_schema,
            upcasters=upcasters,
            policy=policy,
        )
    raise ValueError(f"unknown event store backend {backend!r}; use 'sqlite' or 'postgres'")


KeySource = tuple[str, str, str]  # ("sqlite", path, "") or ("postgres", dsn, schema)


def store_address(settings: Settings, backend: str) -> str:
    """Which store, as a job argument names it: `sqlite:<path>` or `postgres:<schema>` (the
    DSN, which may hold a password, stays in the settings, never on a command line)."""
    if backend == "sqlite":
        return f"sqlite:{default_sqlite_path(settings)}"
    if backend == "postgres":
        return f"postgres:{settings.postgres_schema}"
    raise ValueError(f"unknown event store backend {backend!r}; use 'sqlite' or 'postgres'")


def key_source(settings: Settings, address: str) -> KeySource:
    """Where a process that only reads keys (the projection job) finds them: plain strings,
    so they travel inside a job's pickled functions to the cluster's workers."""
    kind, _, where = address.partition(":")
    if kind == "sqlite" and where:
        return ("sqlite", where, "")
    if kind == "postgres" and where:
        return ("postgres", settings.postgres_dsn, where)
    raise ValueError(f"event store {address!r}: use sqlite:<path> or postgres:<schema>")


def open_key_reader(source: KeySource) -> KeyReader:
    kind, where, schema = source
    if kind == "sqlite":
        return SQLiteKeyReader(where)
    from hindsight.eventstore.postgres import PostgresKeyReader  # lazy: psycopg, 0.5 s

    return PostgresKeyReader(where, schema or "public")
