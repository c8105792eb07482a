"""The commerce event catalogue: every event type's fields, types, enums and PII class.

`validate` checks event data against it, so the tests keep it in step with what `decide`
really emits; the data contracts (YAML, written by hand) are held to it field by field by
tests/unit/commerce/test_schema_matches_contracts.py. Conventions:
`required` = the key is always present; `nullable` = its value may be null (PII fields are
nullable because erasure redacts them in stored events); money is integer cents.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from typing import Any

from commerce.base import COUNTRY_PATTERN, EMAIL_PATTERN, ID_PATTERN
from commerce.orders import OrderStatus

JSON_TYPES: dict[str, type | tuple[type, ...]] = {
    "string": str,
    "integer": int,
    "boolean": bool,
    "array": list,
    "object": dict,
}
PII_NOTE = (
    "PII: sealed under a key of the customer, destroyed when the customer is forgotten: "
    "null from then on, in every replay"
)


@dataclass(frozen=True)
class FieldSpec:
    name: str
    type: str  # a JSON_TYPES key
    description: str
    required: bool = True
    nullable: bool = False
    pii: bool = False
    note: str | None = None
    enum: tuple[str, ...] | None = None
    pattern: str | None = None
    minimum: int | None = None
    min_items: int | None = None
    items: tuple[FieldSpec, ...] | None = None  # fields of each object in an array


@dataclass(frozen=True)
class EventSpec:
    event_type: str
    schema_version: int
    domain: str
    aggregate_type: str
    key: str  # the data field holding the aggregate id (the Kafka key)
    description: str
    fields: tuple[FieldSpec, ...]
    rules: tuple[str, ...] = ()  # cross-field quality rules, as readable expressions


def _id(name: str, description: str, note: str | None = None) -> FieldSpec:
    return FieldSpec(name, "string", description, pattern=ID_PATTERN, note=note)


def _cents(name: str, description: str, minimum: int = 0) -> FieldSpec:
    return FieldSpec(name, "integer", description, minimum=minimum)


def _text(name: str, description: str, **kw: Any) -> FieldSpec:
    return FieldSpec(name, "string", description, **kw)


def _pii(name: str, description: str, pattern: str | None = None) -> FieldSpec:
    return FieldSpec(
        name, "string", description, nullable=True, pii=True, note=PII_NOTE, pattern=pattern
    )


CUSTOMER_ID = _id(
    "customer_id",
    "customer id",
    note="pseudonymous id, not PII itself; kept after erasure so history stays linked",
)
CITY = _text(
    "city",
    "city of the address",
    note="not PII on its own, but a quasi-identifier; kept after erasure for geography",
)
COUNTRY = _text("country", "ISO 3166-1 alpha-2 country code", pattern=COUNTRY_PATTERN)
STREET = _pii("street", "street and number")
PRODUCT_ID = _id("product_id", "product id (SKU)")
ORDER_ID = _id("order_id", "order id")
PAYMENT_ID = _id("payment_id", "payment id (the flows use the order id)")
QUANTITY = FieldSpec("quantity", "integer", "units", minimum=1)
FREE_TEXT_NOTE = "free text; callers must not put personal data here"

LINE_FIELDS = (
    PRODUCT_ID,
    QUANTITY,
    _cents("unit_price_cents", "price per unit as sold, integer cents"),
    _cents("line_total_cents", "quantity * unit_price_cents"),
)

_EVENTS: tuple[EventSpec, ...] = (
    # customers
    EventSpec(
        "CustomerRegistered", 1, "customers", "customer", "customer_id",
        "a new customer with contact details and address",
        (CUSTOMER_ID, _pii("name", "full name"), _pii("email", "email address", EMAIL_PATTERN),
         STREET, CITY, COUNTRY),
    ),
    EventSpec(
        "CustomerAddressChanged", 1, "customers", "customer", "customer_id",
        "the customer moved; the whole address is replaced",
        (CUSTOMER_ID, STREET, CITY, COUNTRY),
    ),
    EventSpec(
        "CustomerForgotten", 1, "customers", "customer", "customer_id",
        "GDPR erasure: drop name, email and street everywhere; carries no PII itself",
        (CUSTOMER_ID,),
    ),
    # catalog
    EventSpec(
        "ProductCreated", 2, "catalog", "product", "product_id",
        "a product enters the catalog (v2: price as integer cents)",
        (PRODUCT_ID, _text("name", "display name"), _text("category", "category name"),
         _cents("price_cents", "list price, integer cents"),
         _text("description", "free text for search", required=False, nullable=True)),
    ),
    EventSpec(
        "ProductPriceChanged", 1, "catalog", "product", "product_id",
        "the list price changed (placed orders keep their price)",
        (PRODUCT_ID, _cents("price_cents", "new list price"),
         _cents("previous_price_cents", "list price before the change")),
        rules=("price_cents != previous_price_cents",),
    ),
    # inventory
    EventSpec(
        "StockReceived", 1, "inventory", "stock", "product_id",
        "units arrived in the warehouse", (PRODUCT_ID, QUANTITY),
    ),
    EventSpec(
        "StockReserved", 1, "inventory", "stock", "product_id",
        "units promised to an order (at most on hand minus reserved)",
        (PRODUCT_ID, ORDER_ID, QUANTITY),
    ),
    EventSpec(
        "StockReleased", 1, "inventory", "stock", "product_id",
        "an order's whole reservation returned to available stock",
        (PRODUCT_ID, ORDER_ID, QUANTITY),
    ),
    EventSpec(
        "StockShipped", 1, "inventory", "stock", "product_id",
        "an order's whole reservation left the warehouse (on hand and reserved both drop)",
        (PRODUCT_ID, ORDER_ID, QUANTITY),
    ),
    # orders
    EventSpec(
        "OrderPlaced", 1, "orders", "order", "order_id",
        "a customer ordered products at the given unit prices",
        (ORDER_ID, CUSTOMER_ID,
         FieldSpec("lines", "array", "one line per product", min_items=1, items=LINE_FIELDS),
         _cents("total_cents", "sum of line totals")),
        rules=(
            "lines[].line_total_cents == lines[].quantity * lines[].unit_price_cents",
            "total_cents == sum(lines[].line_total_cents)",
            "lines[].product_id unique within the order",
        ),
    ),
    EventSpec(
        "OrderPaid", 1, "orders", "order", "order_id",
        "the order was paid in full", (ORDER_ID, _cents("amount_cents", "equals total_cents")),
    ),
    EventSpec(
        "OrderShipped", 1, "orders", "order", "order_id",
        "the order left the warehouse",
        (ORDER_ID, _text("tracking_number", "carrier tracking number", required=False,
                         nullable=True)),
    ),
    EventSpec(
        "OrderDelivered", 1, "orders", "order", "order_id",
        "the order reached the customer", (ORDER_ID,),
    ),
    EventSpec(
        "OrderCancelled", 1, "orders", "order", "order_id",
        "the order was cancelled before shipping (a paid order is refunded by billing)",
        (ORDER_ID, _text("reason", "why", note=FREE_TEXT_NOTE),
         _text("previous_status", "status before cancelling",
               enum=(OrderStatus.PLACED.value, OrderStatus.PAID.value))),
    ),
    # billing
    EventSpec(
        "PaymentCaptured", 1, "billing", "payment", "payment_id",
        "money taken for an order",
        (PAYMENT_ID, ORDER_ID, CUSTOMER_ID, _cents("amount_cents", "amount taken", 1)),
    ),
    EventSpec(
        "PaymentRefunded", 1, "billing", "payment", "payment_id",
        "money given back (partial refunds allowed; their sum never exceeds the capture)",
        (PAYMENT_ID, ORDER_ID, CUSTOMER_ID, _cents("amount_cents", "amount refunded", 1),
         _text("reason", "why", note=FREE_TEXT_NOTE)),
    ),
)  # fmt: skip

# Versions no longer emitted but still in stored history (upcast on read).
_HISTORY: tuple[EventSpec, ...] = (
    EventSpec(
        "ProductCreated", 1, "catalog", "product", "product_id",
        "superseded by v2; upcast by commerce.upcasters",
        (PRODUCT_ID, _text("name", "display name"), _text("category", "category name"),
         _text("price", "list price as a decimal string, e.g. '12.50'",
               pattern=r"^\d+(\.\d{1,2})?$"),
         _text("description", "free text for search", required=False, nullable=True)),
    ),
)  # fmt: skip

# Current version of each event type.
EVENTS: dict[str, EventSpec] = {e.event_type: e for e in _EVENTS}
# Every version ever stored, keyed by (event_type, schema_version).
VERSIONS: dict[tuple[str, int], EventSpec] = {
    (e.event_type, e.schema_version): e for e in (*_EVENTS, *_HISTORY)
}
# Enumerations used by events and read models.
ENUMS: dict[str, tuple[str, ...]] = {"OrderStatus": tuple(s.value for s in OrderStatus)}
# Per domain, the events it owns (its data product's output).
DOMAINS: dict[str, tuple[EventSpec, ...]] = {
    d: tuple(e for e in _EVENTS if e.domain == d)
    for d in ("customers", "catalog", "inventory", "orders", "billing")
}
PII_FIELDS: dict[str, tuple[str, ...]] = {
    e.event_type: tuple(f.name for f in e.fields if f.pii) for e in _EVENTS
}


def catalogue() -> dict[str, Any]:
    """The whole catalogue as plain dicts/lists, ready for yaml.safe_dump."""

    def event(spec: EventSpec) -> dict[str, Any]:
        return _plain(asdict(spec))

    return {
        "enums": {k: list(v) for k, v in ENUMS.items()},
        "domains": {
            d: {
                "aggregate_type": specs[0].aggregate_type,
                "key": specs[0].key,
                "events": [event(s) for s in specs],
                "history": [event(s) for s in _HISTORY if s.domain == d],
            }
            for d, specs in DOMAINS.items()
        },
    }


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items() if v is not None}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def redact(event_type: str, data: dict[str, Any]) -> dict[str, Any]:
    """A copy of `data` with its PII fields set to null: what every reader sees of it once
    the customer is forgotten (their key destroyed)."""
    pii = PII_FIELDS.get(event_type, ())
    return {k: (None if k in pii else v) for k, v in data.items()}


def validate(event_type: str, schema_version: int, data: Any) -> list[str]:
    """Every way `data` breaks the catalogue entry (empty list = valid)."""
    spec = VERSIONS.get((event_type, schema_version))
    if spec is None:
        return [f"unknown event type/version {event_type!r} v{schema_version}"]
    return _check_object(spec.fields, data, "")


def _check_object(specs: tuple[FieldSpec, ...], data: Any, prefix: str) -> list[str]:
    if not isinstance(data, dict):
        return [f"{prefix or 'data'}: expected an object, got {type(data).__name__}"]
    known = {f.name for f in specs}
    errors = [f"{prefix}{k}: unknown field" for k in data if k not in known]
    for f in specs:
        path = f"{prefix}{f.name}"
        if f.name not in data:
            if f.required:
                errors.append(f"{path}: required")
            continue
        errors += _check_value(f, data[f.name], path)
    return errors


def _check_value(f: FieldSpec, value: Any, path: str) -> list[str]:
    if value is None:
        return [] if f.nullable else [f"{path}: must not be null"]
    is_bool = isinstance(value, bool)
    if not isinstance(value, JSON_TYPES[f.type]) or (is_bool and f.type != "boolean"):
        return [f"{path}: expected {f.type}, got {type(value).__name__}"]
    errors: list[str] = []
    if f.enum is not None and value not in f.enum:
        errors.append(f"{path}: {value!r} not in {list(f.enum)}")
    if f.pattern is not None and not re.match(f.pattern, value):
        errors.append(f"{path}: {value!r} does not match {f.pattern}")
    if f.minimum is not None and value < f.minimum:
        errors.append(f"{path}: {value} < minimum {f.minimum}")
    if f.min_items is not None and len(value) < f.min_items:
        errors.append(f"{path}: fewer than {f.min_items} items")
    if f.items is not None:
        for i, item in enumerate(value):
            errors += _check_object(f.items, item, f"{path}[{i}].")
    return errors
