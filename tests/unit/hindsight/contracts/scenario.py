"""Drive every commerce command through an in-memory store and wrap the results as the store
would: the events a real workload produces, so the validator is tested on what the aggregates
emit rather than on hand-written samples that could drift from them."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from commerce import EVENT_TYPES
from commerce.billing import RefundPayment
from commerce.catalog import ChangePrice, CreateProduct
from commerce.customers import ChangeCustomerAddress, ForgetCustomer, RegisterCustomer
from commerce.inventory import ReceiveStock
from commerce.orders import CancelOrder, DeliverOrder, PayOrder, PlaceOrder, ShipOrder
from hindsight.events import Envelope
from tests.unit.commerce.support import MemoryStore

T0 = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)


def commands() -> list[Any]:
    """A day of business touching every command, so every event type is emitted."""
    return [
        RegisterCustomer("c-1", "Ada Lovelace", "ada@example.com", "12 Byron St", "London", "GB"),
        RegisterCustomer("c-2", "Alan Turing", "alan@example.com", "1 Park Rd", "Wilmslow", "GB"),
        CreateProduct("p-1", "Analytical Engine", "machines", 125000, "brass, steam"),
        CreateProduct("p-2", "Punch Cards", "supplies", 500),
        ReceiveStock("p-1", 5),
        ReceiveStock("p-2", 100),
        PlaceOrder("o-1", "c-1", (("p-1", 1, 125000), ("p-2", 10, 500))),
        PayOrder("o-1"),
        ShipOrder("o-1", "TRK-1"),
        DeliverOrder("o-1"),
        PlaceOrder("o-2", "c-2", (("p-2", 3, 500),)),
        CancelOrder("o-2", "changed mind"),
        PlaceOrder("o-3", "c-2", (("p-2", 2, 500),)),
        PayOrder("o-3"),
        CancelOrder("o-3", "out of budget"),
        RefundPayment("o-1", "damaged in transit", 1000),
        ChangePrice("p-2", 550),
        ChangeCustomerAddress("c-1", "3 St James Sq", "London", "GB"),
        ForgetCustomer("c-2"),
    ]


def envelopes() -> list[dict[str, Any]]:
    """Every event the scenario emits, as the wire dicts the relay would publish."""
    store = MemoryStore()
    for command in commands():
        store.handle(command)
    versions: dict[tuple[str, str], int] = {}
    out: list[dict[str, Any]] = []
    for position, (aggregate_type, aggregate_id, event) in enumerate(store.log, start=1):
        version = versions.get((aggregate_type, aggregate_id), 0) + 1
        versions[(aggregate_type, aggregate_id)] = version
        assert EVENT_TYPES[event.event_type] == aggregate_type
        at = T0 + timedelta(seconds=position)
        envelope = Envelope(
            event_id=str(uuid.UUID(int=position)),
            event_type=event.event_type,
            schema_version=event.schema_version,
            aggregate_type=aggregate_type,
            aggregate_id=aggregate_id,
            version=version,
            position=position,
            occurred_at=at,
            recorded_at=at + timedelta(milliseconds=3),
            correlation_id=None if position % 2 else f"corr-{position}",
            causation_id=None,
            data=event.data,
        )
        out.append(envelope.to_dict())
    return out
