from __future__ import annotations

import pytest

from commerce.base import InvalidCommand
from commerce.catalog import (
    AGGREGATE,
    ChangePrice,
    CreateProduct,
    Product,
    ProductAlreadyExists,
    ProductNotFound,
)
from tests.unit.commerce.support import decide, given

LAMP = CreateProduct("p-1", "Desk lamp", "lighting", 2499, "warm white")


def test_create_emits_product_created_at_schema_version_2() -> None:
    state, events = given(LAMP)
    assert events[0].event_type == "ProductCreated"
    assert events[0].schema_version == 2
    assert events[0].data == {
        "product_id": "p-1",
        "name": "Desk lamp",
        "category": "lighting",
        "price_cents": 2499,
        "description": "warm white",
    }
    assert state == Product("p-1", "Desk lamp", "lighting", "warm white", 2499)


def test_description_is_optional() -> None:
    _, events = given(CreateProduct("p-2", "Bulb", "lighting", 0))
    assert events[0].data["description"] is None


def test_create_twice_is_rejected_naming_the_product() -> None:
    state, _ = given(LAMP)
    with pytest.raises(ProductAlreadyExists, match="'p-1'") as err:
        decide(AGGREGATE, state, LAMP)
    assert err.value.code == "product_already_exists"


def test_change_price_records_old_and_new() -> None:
    state, events = given(LAMP, ChangePrice("p-1", 1999))
    assert events[-1].data == {
        "product_id": "p-1",
        "price_cents": 1999,
        "previous_price_cents": 2499,
    }
    assert state.price_cents == 1999


def test_same_price_emits_nothing() -> None:
    state, _ = given(LAMP)
    assert decide(AGGREGATE, state, ChangePrice("p-1", 2499)) == []


def test_change_price_of_unknown_product_is_not_found() -> None:
    with pytest.raises(ProductNotFound, match="'p-9'") as err:
        decide(AGGREGATE, Product(), ChangePrice("p-9", 100))
    assert err.value.details == {"product_id": "p-9"}


@pytest.mark.parametrize(
    ("price", "reason"),
    [
        (-1, "must be >= 0"),
        (12.5, "must be an integer"),
        (True, "integer"),
        (10**10 + 1, "must be <= 10,000,000,000"),
    ],
)
def test_price_must_be_non_negative_integer_cents(price: object, reason: str) -> None:
    with pytest.raises(InvalidCommand, match=reason) as err:
        ChangePrice("p-1", price)  # type: ignore[arg-type]
    assert err.value.field == "price_cents"


def test_the_bounds_keep_every_order_total_inside_64_bits() -> None:
    """Read models hold money as a 64-bit `long`: the largest possible order must fit."""
    from commerce import base
    from commerce.orders import MAX_LINES

    largest = MAX_LINES * base.MAX_QUANTITY * base.MAX_CENTS
    assert largest <= base.MAX_ORDER_TOTAL < 2**63
