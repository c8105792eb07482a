"""The commerce domain: the worked example of a Hindsight domain, pure Python, no I/O.

One module per data-mesh domain (customers, catalog, inventory, orders, billing), each
exposing AGGREGATE, COMMANDS, EVENT_TYPES and ERRORS. This module merges them into the
registry the command service and the CLI are generated from: every command is a frozen
dataclass routed by `target(command)`, decided by `AGGREGATES[aggregate_type]`, and
multi-aggregate commands are expanded into steps by `commerce.flows.plan`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import MISSING, fields
from typing import Any

from commerce import billing, catalog, customers, inventory, orders
from commerce.base import (
    Command,
    CommerceError,
    InvalidCommand,
    InvariantViolation,
    NotFound,
    UnknownCommand,
    UnknownEventType,
)
from commerce.orders import OrderLine
from hindsight.aggregate import Aggregate

_DOMAINS = (customers, catalog, inventory, orders, billing)

# aggregate_type -> Aggregate: "customer", "product", "stock", "order", "payment".
AGGREGATES: dict[str, Aggregate[Any]] = {m.AGGREGATE.aggregate_type: m.AGGREGATE for m in _DOMAINS}
# command name (the class name, e.g. "PlaceOrder") -> command class.
COMMANDS: dict[str, type[Command]] = {c.__name__: c for m in _DOMAINS for c in m.COMMANDS}
# event type -> the aggregate type whose streams hold it.
EVENT_TYPES: dict[str, str] = {
    e: m.AGGREGATE.aggregate_type for m in _DOMAINS for e in m.EVENT_TYPES
}
# stable error code -> error class, for an API to document and clients to match on.
ERRORS: dict[str, type[CommerceError]] = {
    cls.code: cls
    for cls in (
        InvalidCommand,
        UnknownCommand,
        *(e for m in _DOMAINS for e in m.ERRORS),
    )
}


def target(command: Command) -> tuple[str, str]:
    """(aggregate_type, aggregate_id) of the stream a command is decided against."""
    if type(command).__name__ not in COMMANDS:
        raise UnknownCommand(command=type(command).__name__, reason="not a commerce command")
    return command.aggregate_type, command.aggregate_id


def aggregate_for(command: Command) -> Aggregate[Any]:
    return AGGREGATES[target(command)[0]]


def parse_command(name: str, payload: Mapping[str, Any]) -> Command:
    """Build a command from JSON-ish input (HTTP body, CLI options), with field-level errors.

    Unknown and missing fields are InvalidCommand naming the field; values are checked by
    the command itself. Order lines may be objects or 3-element lists.
    """
    cls = COMMANDS.get(name)
    if cls is None:
        raise UnknownCommand(command=name, reason=f"known commands: {', '.join(sorted(COMMANDS))}")
    if not isinstance(payload, Mapping):
        raise InvalidCommand("body", "must be a JSON object", name)
    specs = {f.name: f for f in fields(cls)}
    for key in payload:
        if key not in specs:
            raise InvalidCommand(str(key), "unknown field", name)
    for f in specs.values():
        if f.name not in payload and f.default is MISSING:
            raise InvalidCommand(f.name, "required", name)
    return cls(**payload)


def command_to_dict(command: Command) -> dict[str, Any]:
    """The JSON-able form of a command (what `parse_command` accepts back)."""
    out: dict[str, Any] = {}
    for f in fields(command):
        value = getattr(command, f.name)
        if f.name == "lines":
            value = [
                {
                    "product_id": x.product_id,
                    "quantity": x.quantity,
                    "unit_price_cents": x.unit_price_cents,
                }
                for x in value
                if isinstance(x, OrderLine)
            ]
        out[f.name] = value
    return out


__all__ = [
    "AGGREGATES",
    "COMMANDS",
    "ERRORS",
    "EVENT_TYPES",
    "Command",
    "CommerceError",
    "InvalidCommand",
    "InvariantViolation",
    "NotFound",
    "UnknownCommand",
    "UnknownEventType",
    "aggregate_for",
    "command_to_dict",
    "parse_command",
    "target",
]
