"""The ODCS library metrics `contracts test` computes on a property, and how it finds a
property's values in an event (nested objects and arrays included), shared by the evaluator
and the linter that refuses any other rule."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

SUPPORTED_METRICS = ("duplicateValues", "nullValues", "invalidValues")


def values_at(envelope: Any, path: str) -> list[Any]:
    """The values at a field path (`data.tier`, `data.lines[].quantity`): one per event for a
    path through objects (None where missing), one per item for a path through an array."""
    nodes = [envelope]
    for part in path.split("."):
        key = part.removesuffix("[]")
        found = [n.get(key) if isinstance(n, Mapping) else None for n in nodes]
        if part.endswith("[]"):
            nodes = [item for v in found if isinstance(v, list) for item in v]
        else:
            nodes = found
    return nodes
