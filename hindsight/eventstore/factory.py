"""Opening the configured backend, so services name a backend and nothing else.

The backend is an argument rather than a setting because the settings module belongs to the
whole platform; when it grows an `eventstore_backend` field, pass it here.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from hindsight.eventstore.base import EventStore
from hindsight.eventstore.sqlite import SQLiteEventStore
from hindsight.eventstore.upcasting import Upcasters
from hindsight.settings import Settings, get_settings

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
) -> EventStore:
    """SQLite: a file in the state dir (WAL). PostgreSQL: `settings.postgres_dsn`, in
    `settings.postgres_schema` unless `postgres_schema` names another."""
    s = settings or get_settings()
    if backend == "sqlite":
        return SQLiteEventStore(
            sqlite_path or default_sqlite_path(s),
            upcasters=upcasters,
            synchronous=s.sqlite_synchronous,
        )
    if backend == "postgres":
        from hindsight.eventstore.postgres import PostgresEventStore  # lazy: psycopg, 0.5 s

        return PostgresEventStore(
            s.postgres_dsn, schema=postgres_schema or s.postgres_schema, upcasters=upcasters
        )
    raise ValueError(f"unknown event store backend {backend!r}; use 'sqlite' or 'postgres'")
