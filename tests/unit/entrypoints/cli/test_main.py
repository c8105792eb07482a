"""The `hindsight` command: every group mounted, and the domain's commands run end to end on
a store of their own (no servers: the SQLite store in a temporary state dir)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from entrypoints.cli.main import app
from hindsight.settings import get_settings

runner = CliRunner()


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.setenv("HINDSIGHT_HOME", str(tmp_path))
    get_settings.cache_clear()
    yield tmp_path
    get_settings.cache_clear()


def test_every_group_is_mounted() -> None:
    out = runner.invoke(app, ["--help"], terminal_width=200).output
    for group in ("stack", "service", "contracts", "job", "search", "graph", "relay", "sink",
                  "generate", "do", "get", "history", "demo"):  # fmt: skip
        assert f" {group} " in out, group


def test_the_domains_commands_are_sub_commands_in_kebab_case() -> None:
    out = runner.invoke(app, ["do", "--help"], terminal_width=200).output
    assert "register-customer" in out and "place-order" in out


def test_a_command_is_stored_and_read_back(home: Path) -> None:
    placed = runner.invoke(app, [
        "do", "register-customer", "--customer-id", "c-1", "--name", "Ada",
        "--email", "ada@example.org", "--street", "1 Lane", "--city", "Leeds", "--country", "gb",
    ])  # fmt: skip
    assert placed.exit_code == 0, placed.output
    answer = json.loads(placed.output)
    assert (answer["aggregate_id"], answer["version"]) == ("c-1", 1)
    got = runner.invoke(app, ["get", "customer", "c-1"])
    assert got.exit_code == 0, got.output
    assert '"country": "GB"' in got.output
    assert (home / "eventstore.sqlite").exists()


def test_a_refused_command_is_an_error_line_and_exit_1(home: Path) -> None:
    bad = runner.invoke(app, [
        "do", "register-customer", "--customer-id", "c-1", "--name", "Ada",
        "--email", "not-an-email", "--street", "1 Lane", "--city", "Leeds", "--country", "GB",
    ])  # fmt: skip
    assert bad.exit_code == 1
    assert "email" in bad.output
    missing = runner.invoke(app, ["get", "customer", "nobody"])
    assert missing.exit_code == 1
