from __future__ import annotations

import pytest
from hypothesis import given as for_all
from hypothesis import strategies as st

from commerce.catalog import AGGREGATE, PRODUCT_CREATED_VERSION, Product
from commerce.schema import EVENTS, validate
from commerce.upcasters import UPCASTERS, UpcastError, upcast

V1 = {"product_id": "p-1", "name": "Lamp", "category": "lighting", "price": "12.50"}


def test_product_created_v1_price_string_becomes_integer_cents() -> None:
    version, data = upcast("ProductCreated", 1, V1)
    assert version == PRODUCT_CREATED_VERSION == EVENTS["ProductCreated"].schema_version
    assert data == {
        "product_id": "p-1",
        "name": "Lamp",
        "category": "lighting",
        "price_cents": 1250,
        "description": None,
    }
    assert validate("ProductCreated", 2, data) == []
    assert AGGREGATE.fold([("ProductCreated", data)]) == Product(
        "p-1", "Lamp", "lighting", None, 1250
    )


def test_upcasting_never_touches_its_input() -> None:
    original = dict(V1)
    upcast("ProductCreated", 1, original)
    assert original == V1


@pytest.mark.parametrize(("price", "cents"), [("12", 1200), ("0.5", 50), ("0", 0), ("7.05", 705)])
def test_decimal_prices_convert_exactly(price: str, cents: int) -> None:
    assert upcast("ProductCreated", 1, {**V1, "price": price})[1]["price_cents"] == cents


@pytest.mark.parametrize("price", ["12.505", "abc", "-1", "NaN", "Infinity", None])
def test_prices_that_would_lose_information_are_refused(price: object) -> None:
    with pytest.raises(UpcastError, match="ProductCreated v1"):
        upcast("ProductCreated", 1, {**V1, "price": price})


def test_current_versions_and_other_types_pass_through_unchanged() -> None:
    data = {"product_id": "p-1", "price_cents": 1}
    assert upcast("ProductCreated", 2, data) == (2, data)
    assert upcast("OrderPaid", 1, data) == (1, data)


def test_every_upcaster_starts_below_the_current_version() -> None:
    for event_type, from_version in UPCASTERS:
        assert from_version < EVENTS[event_type].schema_version


@for_all(st.integers(0, 10**12))
def test_any_two_decimal_price_round_trips_to_its_cents(cents: int) -> None:
    price = f"{cents // 100}.{cents % 100:02d}"
    assert upcast("ProductCreated", 1, {**V1, "price": price})[1]["price_cents"] == cents
