"""The output port: what a contract's server names and the code writes to.

The ports a deployment writes come from its read-model plug-in (`PORTS`: the domain's event
topics, indices and graph elements, with `hindsight.topics.platform_ports`); the governance
linter proves both directions: every port a contract names exists in the code, and every port
the code writes is owned by exactly one contract.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

PortKind = Literal["kafka", "elasticsearch", "neo4j-label", "neo4j-relationship", "postgres-table"]


@dataclass(frozen=True, order=True)
class Port:
    kind: PortKind
    name: str

    def __str__(self) -> str:
        return f"{self.kind}:{self.name}"
