"""The event store contract on the embedded SQLite backend (a fresh file per test)."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest

from hindsight.eventstore import EventStore
from hindsight.eventstore.sqlite import SQLiteEventStore, to_micros
from tests.eventstore_contract import EventStoreContract


class TestSQLiteEventStore(EventStoreContract):
    @pytest.fixture
    def open_store(self, tmp_path: Path) -> Any:
        opened: list[EventStore] = []

        def open_(**kw: Any) -> EventStore:
            opened.append(SQLiteEventStore(tmp_path / "eventstore.sqlite", **kw))
            return opened[-1]

        yield open_
        for s in opened:
            s.close()

    def write_legacy_row(self, store: EventStore, row: dict[str, Any]) -> None:
        assert isinstance(store, SQLiteEventStore)
        values = {
            **row,
            "occurred_at": to_micros(row["occurred_at"]),
            "recorded_at": to_micros(row["recorded_at"]),
        }
        with sqlite3.connect(store.path) as conn:
            conn.execute(
                "insert into hs_events (event_id, event_type, schema_version, aggregate_type, "
                "aggregate_id, version, position, occurred_at, recorded_at, data) values "
                "(:event_id, :event_type, :schema_version, :aggregate_type, :aggregate_id, "
                ":version, :position, :occurred_at, :recorded_at, :data)",
                values,
            )


def test_the_file_is_in_wal_mode_with_full_sync(tmp_path: Path) -> None:
    store = SQLiteEventStore(tmp_path / "s.sqlite")
    conn = store._conn()
    assert conn.execute("pragma journal_mode").fetchone() == ("wal",)
    assert conn.execute("pragma synchronous").fetchone() == (2,)
    store.close()


def test_durability_is_a_setting_and_refuses_an_unsafe_level(tmp_path: Path) -> None:
    from hindsight.eventstore import open_store
    from hindsight.settings import Settings

    store = open_store(Settings(home=tmp_path, sqlite_synchronous="NORMAL"))
    assert isinstance(store, SQLiteEventStore)
    assert store._conn().execute("pragma synchronous").fetchone() == (1,)
    store.close()
    with pytest.raises(ValueError, match="OFF could corrupt"):
        SQLiteEventStore(tmp_path / "off.sqlite", synchronous="OFF")


def test_open_store_defaults_to_a_file_in_the_state_dir(tmp_path: Path) -> None:
    from hindsight.eventstore import open_store
    from hindsight.settings import Settings

    store = open_store(Settings(home=tmp_path))
    assert isinstance(store, SQLiteEventStore)
    assert store.path == tmp_path / "eventstore.sqlite"
    store.close()
