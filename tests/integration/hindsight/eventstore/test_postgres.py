"""The event store contract on PostgreSQL: the real server, a fresh schema per test."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest

from hindsight.eventstore import EventStore
from hindsight.eventstore.postgres import PostgresEventStore, PostgresKeyReader
from hindsight.settings import Settings
from hindsight.shredding import KeyReader
from tests.eventstore_contract import EventStoreContract

pytestmark = pytest.mark.servers("postgres")


class TestPostgresEventStore(EventStoreContract):
    @pytest.fixture
    def open_store(self, settings: Settings) -> Iterator[Any]:
        schema = f"test_{uuid.uuid4().hex[:12]}"
        opened: list[PostgresEventStore] = []

        def open_(**kw: Any) -> EventStore:
            opened.append(PostgresEventStore(settings.postgres_dsn, schema=schema, **kw))
            return opened[-1]

        yield open_
        for s in opened:
            s.close()
        if opened:
            opened[0].drop()

    def write_legacy_row(self, store: EventStore, row: dict[str, Any]) -> None:
        assert isinstance(store, PostgresEventStore)
        with psycopg.connect(store.dsn, autocommit=True) as conn:
            conn.execute(f"set search_path to {store.schema}")
            conn.execute(
                "insert into hs_events (event_id, event_type, schema_version, aggregate_type, "
                "aggregate_id, version, position, occurred_at, recorded_at, data) values "
                "(%(event_id)s, %(event_type)s, %(schema_version)s, %(aggregate_type)s, "
                "%(aggregate_id)s, %(version)s, %(position)s, %(occurred_at)s, "
                "%(recorded_at)s, %(data)s::jsonb)",
                row,
            )

    def stored_text(self, store: EventStore) -> bytes:
        assert isinstance(store, PostgresEventStore)
        with psycopg.connect(store.dsn, autocommit=True) as conn:
            conn.execute(f"set search_path to {store.schema}")
            rows = [
                *conn.execute("select data::text from hs_events"),
                *conn.execute("select state::text from hs_snapshots"),
            ]
        return "\n".join(r[0] for r in rows).encode()

    def key_reader(self, store: EventStore) -> KeyReader:
        assert isinstance(store, PostgresEventStore)
        return PostgresKeyReader(store.dsn, store.schema)


def test_open_store_uses_the_configured_dsn(settings: Settings) -> None:
    from hindsight.eventstore import open_store

    schema = f"test_{uuid.uuid4().hex[:12]}"
    store = open_store(settings, "postgres", postgres_schema=schema)
    assert isinstance(store, PostgresEventStore)
    assert store.dsn == settings.postgres_dsn
    store.drop()
