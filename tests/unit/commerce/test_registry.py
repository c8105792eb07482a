from __future__ import annotations

from dataclasses import fields

import pytest
from hypothesis import given as for_all
from hypothesis import strategies as st

from commerce import (
    AGGREGATES,
    COMMANDS,
    ERRORS,
    EVENT_TYPES,
    InvalidCommand,
    UnknownCommand,
    aggregate_for,
    command_to_dict,
    parse_command,
    target,
)
from commerce.base import Command
from commerce.orders import OrderLine, PlaceOrder
from hindsight.aggregate import Aggregate, DomainError


def test_aggregates_are_keyed_by_their_type_one_per_domain() -> None:
    assert {k: a.domain for k, a in AGGREGATES.items()} == {
        "customer": "customers",
        "product": "catalog",
        "stock": "inventory",
        "order": "orders",
        "payment": "billing",
    }
    assert all(isinstance(a, Aggregate) and a.aggregate_type == k for k, a in AGGREGATES.items())


def test_every_command_routes_to_an_aggregate_by_one_of_its_fields() -> None:
    assert len(COMMANDS) == 16
    for name, cls in COMMANDS.items():
        assert cls.__name__ == name
        assert cls.aggregate_type in AGGREGATES
        assert cls.id_field in {f.name for f in fields(cls)}
        assert all(f.metadata.get("doc") for f in fields(cls)), name


def test_target_and_aggregate_for() -> None:
    command = PlaceOrder("o-1", "c-1", [("p-1", 1, 1)])
    assert target(command) == ("order", "o-1")
    assert aggregate_for(command) is AGGREGATES["order"]
    with pytest.raises(UnknownCommand):
        target(Command())


def test_event_types_belong_to_exactly_one_aggregate() -> None:
    assert set(EVENT_TYPES.values()) == set(AGGREGATES)
    assert len(EVENT_TYPES) == 16


def test_error_codes_are_unique_and_all_domain_errors() -> None:
    assert len(ERRORS) == 23
    for code, cls in ERRORS.items():
        assert issubclass(cls, DomainError) and cls.code == code


def test_parse_command_builds_commands_from_json() -> None:
    command = parse_command(
        "PlaceOrder",
        {"order_id": "o-1", "customer_id": "c-1", "lines": [["p-1", 2, 5]]},
    )
    assert command == PlaceOrder("o-1", "c-1", (OrderLine("p-1", 2, 5),))
    assert parse_command("PayOrder", {"order_id": "o-1"}).amount_cents is None


@pytest.mark.parametrize(
    ("name", "payload", "error", "field"),
    [
        ("Nope", {}, UnknownCommand, None),
        ("PayOrder", {"order_id": "o-1", "amount": 5}, InvalidCommand, "amount"),
        ("PayOrder", {}, InvalidCommand, "order_id"),
        ("PayOrder", ["o-1"], InvalidCommand, "body"),
        ("ReceiveStock", {"product_id": "p-1", "quantity": "5"}, InvalidCommand, "quantity"),
    ],
)
def test_parse_command_errors_name_the_field(
    name: str, payload: object, error: type[DomainError], field: str | None
) -> None:
    with pytest.raises(error) as err:
        parse_command(name, payload)  # type: ignore[arg-type]
    if field is not None:
        assert isinstance(err.value, InvalidCommand)
        assert (err.value.field, err.value.command) == (field, name)


ids = st.from_regex(r"[a-z0-9][a-z0-9-]{0,8}", fullmatch=True)
lines = st.dictionaries(ids, st.tuples(st.integers(1, 9), st.integers(0, 999)), min_size=1)


@for_all(ids, ids, lines)
def test_command_to_dict_round_trips(order_id: str, customer_id: str, raw: dict) -> None:
    command = PlaceOrder(order_id, customer_id, [(p, q, c) for p, (q, c) in raw.items()])
    assert parse_command("PlaceOrder", command_to_dict(command)) == command
