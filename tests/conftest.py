"""Shared fixtures. Integration tests talk to the real servers that `make up` started."""

from __future__ import annotations

import pytest

from hindsight.settings import Settings, get_settings


@pytest.fixture(scope="session")
def settings() -> Settings:
    return get_settings()
