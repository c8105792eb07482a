"""Configuration has local defaults and environment overrides, in one place."""

from __future__ import annotations

from pathlib import Path

import pytest

from hindsight.settings import Settings


def test_local_defaults() -> None:
    s = Settings()
    assert s.host == "127.0.0.1"
    assert s.neo4j_user == "neo4j"
    assert s.kafka_bootstrap.endswith(":9092") or s.kafka_port != 9092


def test_environment_overrides(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("HINDSIGHT_HOME", str(tmp_path))
    monkeypatch.setenv("HINDSIGHT_NEO4J_PASSWORD", "s3cret")
    monkeypatch.setenv("HINDSIGHT_POSTGRES_PORT", "6543")
    s = Settings()
    assert s.home == tmp_path
    assert s.neo4j_password == "s3cret"
    assert s.postgres_dsn.endswith(":6543/hindsight")
