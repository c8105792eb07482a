"""The event store contract on the embedded SQLite backend (a fresh file per test)."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest

from hindsight.eventstore import EventStore
from hindsight.eventstore.sqlite import SQLiteEventStore, SQLiteKeyReader, to_micros
from hindsight.shredding import KeyReader
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

    def stored_text(self, store: EventStore) -> bytes:
        assert isinstance(store, SQLiteEventStore)
        wal = store.path.with_name(store.path.name + "-wal")
        return store.path.read_bytes() + (wal.read_bytes() if wal.exists() else b"")

    def key_reader(self, store: EventStore) -> KeyReader:
        assert isinstance(store, SQLiteEventStore)
        return SQLiteKeyReader(store.path)


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


def test_a_state_a_snapshot_cannot_hold_skips_the_snapshot_not_the_command(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """An event stored before NUL characters were refused (SQLite kept them) puts one in the
    state; saving that state as a snapshot is refused, and the committed command must still
    succeed: a snapshot is only a shortcut for loads."""
    from hindsight.aggregate import Aggregate
    from hindsight.events import NewEvent, utcnow
    from hindsight.eventstore import Repository

    memos: Aggregate[list[str]] = Aggregate(
        aggregate_type="memo",
        domain="test",
        initial=list,
        decide=lambda _state, text: [NewEvent("Noted", {"memo": text})],
        evolve=lambda state, _type, data: [*state, data["memo"]],
    )
    store = SQLiteEventStore(tmp_path / "s.sqlite")
    with sqlite3.connect(store.path) as conn:  # as an older version of the code wrote it
        now = to_micros(utcnow())
        conn.execute(
            "insert into hs_events (event_id, event_type, schema_version, aggregate_type, "
            "aggregate_id, version, position, occurred_at, recorded_at, data) values "
            "('old-1', 'Noted', 1, 'memo', 'm1', 1, 1, ?, ?, ?)",
            (now, now, '{"memo": "a\\u0000b"}'),
        )
    repo = Repository(store, snapshot_every=2)
    result = repo.handle(memos, "m1", "fine")  # version 2: a snapshot is due
    assert result.version == 2
    assert "no snapshot of memo m1" in caplog.text
    assert store.load_snapshot("memo", "m1", 1) is None
    assert repo.load(memos, "m1").state == ["a\x00b", "fine"]
    store.close()
