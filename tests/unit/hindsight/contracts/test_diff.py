# ruff: noqa: E501 - case tables keep one case per line, so each reads as a sentence
"""One test per kind of breaking change, the compatible changes an event log allows, the major
version escape hatch, and the git mode CI runs."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from hindsight.contracts.diff import (
    NARROWED_ENUM,
    NEW_REQUIRED_FIELD,
    REMOVED_FIELD,
    REMOVED_SCHEMA,
    TYPE_CHANGE,
    diff_against_git,
    diff_contracts,
)
from tests.unit.hindsight.contracts.support import minimal, prop, schema

Edit = Callable[[dict[str, Any]], Any]


def _data(raw: dict[str, Any]) -> dict[str, Any]:
    return prop(schema(raw, "CustomerRegistered"), "data")


def _without(node: dict[str, Any], name: str) -> None:
    node["properties"] = [p for p in node["properties"] if p["name"] != name]


BREAKING: list[tuple[str, str, Edit]] = [
    (REMOVED_FIELD, "data.properties.tier", lambda r: _without(_data(r), "tier")),
    (TYPE_CHANGE, "tier.logicalType", lambda r: prop(_data(r), "tier").__setitem__("logicalType", "integer")),
    (NEW_REQUIRED_FIELD, "data.properties.vat_id", lambda r: _data(r)["properties"].append(
        {"name": "vat_id", "logicalType": "string", "required": True, "classification": "internal"})),
    (NEW_REQUIRED_FIELD, "name.required", lambda r: prop(_data(r), "name").__setitem__("required", True)),
    (NARROWED_ENUM, "tier.enum", lambda r: prop(_data(r), "tier").__setitem__("enum", [{"value": "standard"}])),
    (REMOVED_SCHEMA, "schema.Customer", lambda r: r.__setitem__("schema", [s for s in r["schema"] if s["name"] != "Customer"])),
]  # fmt: skip


@pytest.mark.parametrize(
    ("kind", "where", "edit"), BREAKING, ids=[f"{b[0]}:{b[1]}" for b in BREAKING]
)
def test_breaking_change_without_major_bump_fails(kind: str, where: str, edit: Edit) -> None:
    old, new = minimal(), minimal()
    edit(new)
    new["version"] = "1.1.0"
    result = diff_contracts(old, new)
    # the change is reported as its kind AND at the place that was edited
    assert any(c.kind == kind and where in c.path for c in result.breaking), result.breaking
    assert not result.ok
    new["version"] = "2.0.0"
    assert diff_contracts(old, new).ok


COMPATIBLE: list[tuple[str, Edit]] = [
    ("new optional field", lambda r: _data(r)["properties"].append(
        {"name": "nickname", "logicalType": "string", "required": False, "classification": "internal"})),
    ("new event type", lambda r: r["schema"].append({"name": "CustomerUpgraded", "properties": []})),
    ("documentation", lambda r: r["description"].__setitem__("usage", "read it")),
]  # fmt: skip


@pytest.mark.parametrize(("name", "edit"), COMPATIBLE, ids=[c[0] for c in COMPATIBLE])
def test_compatible_changes_pass(name: str, edit: Edit) -> None:
    old, new = minimal(), minimal()
    edit(new)
    result = diff_contracts(old, new)
    assert result.breaking == [] and result.ok
    assert result.changes, "the changelog still lists the change"


def test_widened_enum_is_a_warning() -> None:
    old, new = minimal(), minimal()
    prop(_data(new), "tier")["enum"].append({"value": "platinum"})
    result = diff_contracts(old, new)
    assert result.ok and [c.kind for c in result.warnings] == ["widened enum"]


def _git(repo: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True)


def test_against_git_compares_with_the_previous_commit(tmp_path: Path) -> None:
    _git(tmp_path, "init", "-q")
    _git(tmp_path, "config", "user.email", "t@example.com")
    _git(tmp_path, "config", "user.name", "t")
    path = tmp_path / "customers" / "datacontract.yaml"
    path.parent.mkdir()
    path.write_text(yaml.safe_dump(minimal()))
    _git(tmp_path, "add", ".")
    _git(tmp_path, "commit", "-qm", "v1")
    changed = minimal()
    _without(_data(changed), "tier")
    path.write_text(yaml.safe_dump(changed))
    new_path = tmp_path / "billing" / "datacontract.yaml"
    new_path.parent.mkdir()
    new_path.write_text(yaml.safe_dump(minimal()))
    results = diff_against_git("HEAD", [path, new_path], tmp_path)
    assert results[new_path] is None  # new since HEAD: nothing to break
    result = results[path]
    assert result is not None and not result.ok
    assert [c.kind for c in result.breaking] == [REMOVED_FIELD]
