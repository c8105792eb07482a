from __future__ import annotations

import json
import re

from commerce import EVENT_TYPES
from commerce.schema import (
    DOMAINS,
    EVENTS,
    PII_FIELDS,
    VERSIONS,
    catalogue,
    redact,
    validate,
)

PLACED = {
    "order_id": "o-1",
    "customer_id": "c-1",
    "lines": [{"product_id": "p-1", "quantity": 2, "unit_price_cents": 5, "line_total_cents": 10}],
    "total_cents": 10,
}


def test_every_event_type_is_catalogued_pascal_case_and_unique() -> None:
    assert set(EVENTS) == set(EVENT_TYPES)
    assert all(re.fullmatch(r"(?:[A-Z][a-z]+)+", t) for t in EVENTS)
    owned = [e.event_type for specs in DOMAINS.values() for e in specs]
    assert sorted(owned) == sorted(EVENTS)


def test_each_event_names_its_aggregate_key_as_a_field() -> None:
    for spec in VERSIONS.values():
        assert spec.key in {f.name for f in spec.fields}
        assert EVENT_TYPES[spec.event_type] == spec.aggregate_type


def test_versions_are_1_except_product_created_at_2() -> None:
    assert {t: s.schema_version for t, s in EVENTS.items() if s.schema_version != 1} == {
        "ProductCreated": 2
    }
    assert ("ProductCreated", 1) in VERSIONS


def test_pii_is_exactly_name_email_street_and_city_is_noted_not_pii() -> None:
    assert {t: f for t, f in PII_FIELDS.items() if f} == {
        "CustomerRegistered": ("name", "email", "street"),
        "CustomerAddressChanged": ("street",),
    }
    city = next(f for f in EVENTS["CustomerRegistered"].fields if f.name == "city")
    assert not city.pii and city.note and "quasi-identifier" in city.note
    assert all(f.nullable for spec in EVENTS.values() for f in spec.fields if f.pii)
    assert PII_FIELDS["CustomerForgotten"] == ()


def test_redact_nulls_pii_and_keeps_the_rest() -> None:
    data = {"customer_id": "c-1", "street": "1 Main St", "city": "Paris", "country": "FR"}
    assert redact("CustomerAddressChanged", data) == {**data, "street": None}
    assert redact("OrderPlaced", PLACED) == PLACED
    assert validate("CustomerAddressChanged", 1, redact("CustomerAddressChanged", data)) == []


def test_validate_reports_each_way_data_can_be_wrong() -> None:
    assert validate("OrderPlaced", 1, PLACED) == []
    bad = {
        "order_id": "has space",
        "lines": [{"product_id": "p-1", "quantity": True, "unit_price_cents": 5, "extra": 1}],
        "total_cents": -1,
        "surprise": 1,
    }
    assert sorted(validate("OrderPlaced", 1, bad)) == sorted(
        [
            "surprise: unknown field",
            "order_id: 'has space' does not match ^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$",
            "customer_id: required",
            "lines[0].extra: unknown field",
            "lines[0].quantity: expected integer, got bool",
            "lines[0].line_total_cents: required",
            "total_cents: -1 < minimum 0",
        ]
    )
    cancelled = {"order_id": "o-1", "reason": "x", "previous_status": "shipped"}
    assert validate("OrderCancelled", 1, cancelled) == [
        "previous_status: 'shipped' not in ['placed', 'paid']"
    ]
    assert validate("OrderPlaced", 1, {**PLACED, "lines": []}) == ["lines: fewer than 1 items"]
    assert validate("OrderPaid", 1, {"order_id": None, "amount_cents": 1}) == [
        "order_id: must not be null"
    ]
    assert validate("Nope", 1, {}) == ["unknown event type/version 'Nope' v1"]
    assert validate("OrderPaid", 1, []) == ["data: expected an object, got list"]


def test_catalogue_is_plain_json_able_data() -> None:
    plain = catalogue()
    assert json.loads(json.dumps(plain)) == plain
    assert plain["enums"]["OrderStatus"] == ["placed", "paid", "shipped", "delivered", "cancelled"]
    catalog = plain["domains"]["catalog"]
    assert [e["schema_version"] for e in catalog["history"]] == [1]
    assert catalog["aggregate_type"] == "product" and catalog["key"] == "product_id"
