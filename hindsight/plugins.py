"""Loading a domain's plug-ins by name, so settings (not code edits) choose what runs.

Settings name Python objects as ``package.module:ATTRIBUTE`` strings: the write-side `Domain`
(``domain``), the projection stages (``projections``) and the read-model module
(``read_models``). Strings, not objects, because they cross process boundaries: the Flink job,
its Python workers and the sink workers each import what the environment names.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any

from hindsight.contracts.ports import Port, code_ports

if TYPE_CHECKING:
    from pipelines.read_models import GraphPattern, IndexSpec


def load(spec: str, default: str | None = None) -> Any:
    """`package.module:ATTRIBUTE` -> that attribute; without `:ATTRIBUTE`, the module's
    `default` attribute, or the module itself when no default is given."""
    module_name, _, attribute = spec.partition(":")
    module = importlib.import_module(module_name)
    attribute = attribute or default or ""
    return getattr(module, attribute) if attribute else module


@dataclass(frozen=True)
class ReadModels:
    """What the sinks write and what the governance linter holds the contracts to."""

    index_specs: Mapping[str, IndexSpec]
    graph_patterns: Mapping[str, GraphPattern]
    ports: frozenset[Port]


@cache
def read_models(spec: str) -> ReadModels:
    """The read-model module `spec` names (settings.read_models).

    The module exposes INDEX_SPECS and GRAPH_PATTERNS, and PORTS when it writes ports beyond
    the commerce registry (hindsight.contracts.ports). Every index alias must be one of the
    ports: the linter then proves a contract owns it, which is what keeps a plug-in from
    writing an index nobody governs.
    """
    module = load(spec)
    ports = frozenset(getattr(module, "PORTS", None) or code_ports())
    specs = dict(module.INDEX_SPECS)
    stray = sorted(a for a in specs if Port("elasticsearch", a) not in ports)
    if stray:
        raise ValueError(f"{spec}: index aliases {stray} are not in its PORTS")
    return ReadModels(specs, dict(module.GRAPH_PATTERNS), ports)
