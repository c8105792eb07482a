"""Inventory: how much of each product is on hand and how much of that is promised to orders.

One aggregate per product (id = product_id). Reservations are kept per order, so releasing
or shipping needs only the order id and can never touch another order's units. Invariant:
0 <= reserved <= on_hand, i.e. a reservation never exceeds on hand minus already reserved.

Releasing a reservation that does not exist is a no-op rather than an error: it is what a
cancel of an order whose stock was never reserved (or was already released) asks for, and
doing nothing is the correct outcome there.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any, ClassVar

from commerce import base as v
from commerce.base import Command, InvariantViolation, NotFound, UnknownCommand, UnknownEventType
from hindsight.aggregate import Aggregate
from hindsight.events import NewEvent

STOCK = "stock"
DOMAIN = "inventory"


class InsufficientStock(InvariantViolation):
    code = "insufficient_stock"
    template = (
        "cannot reserve {requested} of product {product_id!r} for order {order_id!r}: "
        "only {available} available ({on_hand} on hand, {reserved} reserved)"
    )


class ReservationConflict(InvariantViolation):
    code = "reservation_conflict"
    template = (
        "order {order_id!r} already holds {reserved} of product {product_id!r}; "
        "cannot reserve {requested} more (release first)"
    )


class ReservationNotFound(NotFound):
    code = "reservation_not_found"
    template = "order {order_id!r} holds no reservation of product {product_id!r} to ship"


@dataclass(frozen=True)
class ReceiveStock(Command):
    aggregate_type: ClassVar[str] = STOCK
    id_field: ClassVar[str] = "product_id"

    product_id: str = v.identifier("the product received")
    quantity: int = v.quantity("units received")


@dataclass(frozen=True)
class ReserveStock(Command):
    aggregate_type: ClassVar[str] = STOCK
    id_field: ClassVar[str] = "product_id"

    product_id: str = v.identifier("the product to reserve")
    order_id: str = v.identifier("the order the units are promised to")
    quantity: int = v.quantity("units to reserve")


@dataclass(frozen=True)
class ReleaseStock(Command):
    aggregate_type: ClassVar[str] = STOCK
    id_field: ClassVar[str] = "product_id"

    product_id: str = v.identifier("the product")
    order_id: str = v.identifier("the order whose whole reservation is released")


@dataclass(frozen=True)
class ShipStock(Command):
    aggregate_type: ClassVar[str] = STOCK
    id_field: ClassVar[str] = "product_id"

    product_id: str = v.identifier("the product")
    order_id: str = v.identifier("the order whose whole reservation leaves the warehouse")


COMMANDS: tuple[type[Command], ...] = (ReceiveStock, ReserveStock, ReleaseStock, ShipStock)
EVENT_TYPES = ("StockReceived", "StockReserved", "StockReleased", "StockShipped")
ERRORS = (InsufficientStock, ReservationConflict, ReservationNotFound)


@dataclass(frozen=True)
class Stock:
    """`reservations` maps order_id -> units; it is replaced, never mutated, by `evolve`."""

    product_id: str | None = None
    on_hand: int = 0
    reservations: Mapping[str, int] = field(default_factory=dict)

    @property
    def reserved(self) -> int:
        return sum(self.reservations.values())

    @property
    def available(self) -> int:
        return self.on_hand - self.reserved


def _event(event_type: str, product_id: str, quantity: int, order_id: str | None) -> NewEvent:
    data: dict[str, Any] = {"product_id": product_id, "quantity": quantity}
    if order_id is not None:
        data["order_id"] = order_id
    return NewEvent(event_type, data)


def decide(state: Stock, command: Command) -> list[NewEvent]:
    match command:
        case ReceiveStock():
            return [_event("StockReceived", command.product_id, command.quantity, None)]
        case ReserveStock():
            held = state.reservations.get(command.order_id)
            if held == command.quantity:
                return []  # the same reservation again (a retried saga step): already done
            if held is not None:
                raise ReservationConflict(
                    product_id=command.product_id,
                    order_id=command.order_id,
                    reserved=held,
                    requested=command.quantity,
                )
            if command.quantity > state.available:
                raise InsufficientStock(
                    product_id=command.product_id,
                    order_id=command.order_id,
                    requested=command.quantity,
                    available=state.available,
                    on_hand=state.on_hand,
                    reserved=state.reserved,
                )
            return [_event("StockReserved", command.product_id, command.quantity, command.order_id)]
        case ReleaseStock():
            held = state.reservations.get(command.order_id)
            if held is None:
                return []
            return [_event("StockReleased", command.product_id, held, command.order_id)]
        case ShipStock():
            held = state.reservations.get(command.order_id)
            if held is None:
                raise ReservationNotFound(product_id=command.product_id, order_id=command.order_id)
            return [_event("StockShipped", command.product_id, held, command.order_id)]
    raise UnknownCommand(command=type(command).__name__, reason=f"not a {STOCK} command")


def _without(reservations: Mapping[str, int], order_id: str) -> dict[str, int]:
    return {k: q for k, q in reservations.items() if k != order_id}


def evolve(state: Stock, event_type: str, data: dict[str, Any]) -> Stock:
    product_id = data["product_id"]
    quantity: int = data["quantity"]
    if event_type == "StockReceived":
        return replace(state, product_id=product_id, on_hand=state.on_hand + quantity)
    if event_type == "StockReserved":
        reservations = {**state.reservations, data["order_id"]: quantity}
        return replace(state, product_id=product_id, reservations=reservations)
    if event_type == "StockReleased":
        reservations = _without(state.reservations, data["order_id"])
        return replace(state, product_id=product_id, reservations=reservations)
    if event_type == "StockShipped":
        reservations = _without(state.reservations, data["order_id"])
        return replace(
            state,
            product_id=product_id,
            on_hand=state.on_hand - quantity,
            reservations=reservations,
        )
    raise UnknownEventType(STOCK, event_type)


AGGREGATE: Aggregate[Stock] = Aggregate(
    aggregate_type=STOCK, domain=DOMAIN, initial=Stock, decide=decide, evolve=evolve
)
