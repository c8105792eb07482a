"""Fixtures the entry points' integration tests share."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from entrypoints import namespace as ns
from entrypoints import replay
from hindsight.settings import Settings


@pytest.fixture
def live(tmp_path: Path, settings: Settings) -> Iterator[Settings]:
    """A private deployment on a SQLite store of its own; its replays and everything it wrote
    are removed afterwards."""
    s = ns.private(settings, tmp_path, "live").model_copy(update={"eventstore_backend": "sqlite"})
    yield s
    for r in replay.replays(s):
        replay.drop(s, r.name)
    ns.wipe(s)
