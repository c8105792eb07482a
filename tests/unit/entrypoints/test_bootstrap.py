"""The composition root wires settings, the domain, the store and the handler."""

from __future__ import annotations

from pathlib import Path

import pytest

from entrypoints import bootstrap
from hindsight.eventstore.sqlite import SQLiteEventStore
from hindsight.settings import Settings

CUSTOMER = {
    "customer_id": "c-1", "name": "Ada", "email": "ada@example.org",
    "street": "1 Lane", "city": "Leeds", "country": "GB",
}  # fmt: skip


def test_load_domain_refuses_what_is_not_a_domain() -> None:
    assert bootstrap.load_domain("commerce.domain:COMMERCE").name == "commerce"
    assert bootstrap.load_domain("examples.library.domain:LIBRARY").name == "library"
    with pytest.raises(TypeError, match="not a hindsight Domain"):
        bootstrap.load_domain("commerce.read.plugin:PORTS")


def test_the_handler_writes_to_the_settings_own_store(tmp_path: Path) -> None:
    s = Settings(home=tmp_path)
    handler = bootstrap.command_handler(s)
    try:
        assert isinstance(handler.store, SQLiteEventStore)
        assert handler.store.path == tmp_path / "eventstore.sqlite"
        result = handler.execute_json(
            "RegisterCustomer",
            CUSTOMER,
        )
        assert result.events and handler.store.last_position() == len(result.events)
    finally:
        handler.store.close()


def test_the_handler_checks_events_against_these_settings_contracts(tmp_path: Path) -> None:
    """A domain whose contracts are not among the settings' dirs has nothing to hold its
    events to: the handler refuses them rather than store unchecked data."""
    s = Settings(home=tmp_path, contracts_dirs=[tmp_path / "none"])
    handler = bootstrap.command_handler(s)
    try:
        with pytest.raises(Exception, match="contract"):
            handler.execute_json(
                "RegisterCustomer",
                CUSTOMER,
            )
        assert handler.store.last_position() == 0
    finally:
        handler.store.close()


def test_one_relay_position_per_store() -> None:
    s = Settings()
    assert bootstrap.checkpoint_name(s, "sqlite") == "sqlite.position"
    assert bootstrap.checkpoint_name(s, "postgres") == "postgres.position"
    other = s.model_copy(update={"postgres_schema": "t1"})
    assert bootstrap.checkpoint_name(other, "postgres") == "postgres-t1.position"
