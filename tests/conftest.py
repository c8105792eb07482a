"""Shared fixtures. Integration tests talk to the real servers that `make up` started."""

from __future__ import annotations

import pytest
from hypothesis import settings as hypothesis_settings

from hindsight.settings import Settings, get_settings

# Property tests assert what code does, never how fast: a per-example deadline only fails
# them when the machine is busy (a benchmark or the servers next to them), so there is none.
hypothesis_settings.register_profile("hindsight", deadline=None)
hypothesis_settings.load_profile("hindsight")


@pytest.fixture(scope="session")
def settings() -> Settings:
    return get_settings()
