"""Upcasters: old event data rewritten to the next schema version, applied by the store on read.

Stored events are never rewritten; instead each (event_type, from_version) has a pure function
returning the data at from_version + 1, and `upcast` chains them to the current version. So
`evolve` and the projections only ever handle the latest schema of each event type.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from typing import Any

Data = dict[str, Any]


class UpcastError(ValueError):
    """Stored data cannot be carried to the next version without losing information."""


def product_created_v1_to_v2(data: Data) -> Data:
    """v1 had `price` as a decimal string ("12.50"); v2 has exact integer `price_cents`.

    A v1 price with fractions of a cent is refused rather than rounded: a silent rounding on
    read would make the same history fold to different money depending on the reader.
    """
    raw = data.get("price")
    try:
        price = Decimal(str(raw))
    except InvalidOperation:
        raise UpcastError(f"ProductCreated v1: price {raw!r} is not a decimal number") from None
    cents = price * 100
    if not cents.is_finite() or cents != cents.to_integral_value() or cents < 0:
        raise UpcastError(f"ProductCreated v1: price {raw!r} is not a whole, non-negative cent")
    upgraded = {k: value for k, value in data.items() if k != "price"}
    upgraded["price_cents"] = int(cents)
    upgraded.setdefault("description", None)
    return upgraded


UPCASTERS: dict[tuple[str, int], Callable[[Data], Data]] = {
    ("ProductCreated", 1): product_created_v1_to_v2,
}


def upcast(event_type: str, schema_version: int, data: Data) -> tuple[int, Data]:
    """Apply every upcaster from `schema_version` on; returns (new_version, new_data).
    The input dict is never modified."""
    version, current = schema_version, data
    while (fn := UPCASTERS.get((event_type, version))) is not None:
        current = fn(current)
        version += 1
    return version, current
