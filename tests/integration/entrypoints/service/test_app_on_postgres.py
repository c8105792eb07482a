"""The HTTP service's tests again, over the PostgreSQL event store (the real server).

The tests are the unit suite's, imported unchanged; only the `client` fixture differs. What
PostgreSQL refuses that SQLite takes (a NUL character in text, for one) surfaces here.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from entrypoints import bootstrap
from entrypoints.service.app import create_app
from hindsight.eventstore.postgres import PostgresEventStore
from hindsight.settings import Settings
from tests.unit.entrypoints.service.test_app import *  # noqa: F403 - the same tests, another store

pytestmark = pytest.mark.servers("postgres")


@pytest.fixture
def client(tmp_path: Path, settings: Settings) -> Iterator[TestClient]:
    on_postgres = settings.model_copy(
        update={
            "home": tmp_path,
            "eventstore_backend": "postgres",
            "postgres_schema": f"test_{uuid.uuid4().hex[:12]}",
        }
    )
    handler = bootstrap.command_handler(on_postgres)
    assert isinstance(handler.store, PostgresEventStore)
    yield TestClient(create_app(handler))
    handler.store.drop()
