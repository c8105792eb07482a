"""What a user's domain hands the platform: its aggregates, commands, flows and upcasters.

The command service, the CLI, the relay and the workload tools are written against this one
description, so a second domain plugs in by building a `Domain` — the platform never imports
commerce. Errors are sorted into the three answers an API gives: malformed (422), unknown
aggregate (404), refused by the current state (409).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from hindsight.aggregate import Aggregate


class Step(Protocol):
    aggregate_type: str
    aggregate_id: str
    command: Any


Load = Callable[[str, str], Any]


@dataclass(frozen=True)
class Domain:
    name: str
    aggregates: Mapping[str, Aggregate[Any]]
    commands: Mapping[str, type]
    parse_command: Callable[[str, Mapping[str, Any]], Any]
    target: Callable[[Any], tuple[str, str]]
    command_to_dict: Callable[[Any], dict[str, Any]]
    # command -> the steps (one per aggregate) it takes; default: the command alone
    plan: Callable[[Any, Load], Sequence[Step]] | None = None
    # (event_type, from_schema_version) -> data at from_schema_version + 1
    upcasters: Mapping[tuple[str, int], Callable[[dict[str, Any]], dict[str, Any]]] = field(
        default_factory=dict
    )
    invalid_errors: tuple[type[Exception], ...] = ()
    not_found_errors: tuple[type[Exception], ...] = ()
    # (seed, scale) -> endless valid (command name, JSON payload) traffic, for demos and benches
    workload: Callable[[int, int], Iterator[tuple[str, dict[str, Any]]]] | None = None
    # state types for JSON snapshots and reads; default: the type of aggregate.initial()
    state_types: Mapping[str, type] = field(default_factory=dict)

    def data_domain_of(self, aggregate_type: str) -> str:
        """The data-mesh domain (the Kafka topic's) of an aggregate type."""
        return self.aggregates[aggregate_type].domain

    def state_type(self, aggregate_type: str) -> type:
        return self.state_types.get(aggregate_type) or type(
            self.aggregates[aggregate_type].initial()
        )

    def data_domains(self) -> list[str]:
        return sorted({a.domain for a in self.aggregates.values()})
