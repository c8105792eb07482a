"""Fixture helpers: the minimal contract, and small edits to it that each break one thing."""

from __future__ import annotations

import copy
from functools import cache
from pathlib import Path
from typing import Any

import yaml

FIXTURES = Path(__file__).parent / "fixtures"
MINIMAL = FIXTURES / "minimal"
MINIMAL_CONTRACT = MINIMAL / "customers" / "datacontract.yaml"


@cache
def _minimal() -> dict[str, Any]:
    return yaml.safe_load(MINIMAL_CONTRACT.read_text())


def minimal() -> dict[str, Any]:
    """A fresh, mutable copy of the minimal customers contract."""
    return copy.deepcopy(_minimal())


def schema(raw: dict[str, Any], name: str) -> dict[str, Any]:
    return next(s for s in raw["schema"] if s["name"] == name)


def prop(node: dict[str, Any], *path: str) -> dict[str, Any]:
    """A property by path through nested properties: prop(schema, "data", "email")."""
    for name in path:
        node = next(p for p in node["properties"] if p["name"] == name)
    return node


def custom(node: dict[str, Any], key: str, value: Any) -> None:
    items = node.setdefault("customProperties", [])
    items[:] = [i for i in items if i["property"] != key] + [{"property": key, "value": value}]


def write_root(tmp: Path, *contracts: dict[str, Any]) -> Path:
    """A data-products directory holding these contracts (by their domain)."""
    for raw in contracts:
        d = tmp / raw["domain"]
        d.mkdir(parents=True, exist_ok=True)
        (d / "datacontract.yaml").write_text(yaml.safe_dump(raw, sort_keys=False))
    return tmp
