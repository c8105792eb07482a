"""Orders: the lifecycle placed -> paid -> shipped -> delivered, or -> cancelled before shipping.

The order aggregate judges only its own lifecycle. Stock reservation, payment capture and
refunds belong to inventory and billing; `commerce.flows` sequences those steps around the
order's own command, which always runs first (or, for PlaceOrder, last) as the gatekeeper.
Unit prices are given by the caller at placement and frozen into the order: a later catalog
price change does not reprice placed orders.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any, ClassVar

from commerce import base as v
from commerce.base import (
    Command,
    InvalidCommand,
    InvariantViolation,
    NotFound,
    UnknownCommand,
    UnknownEventType,
    Validated,
)
from hindsight.aggregate import Aggregate
from hindsight.events import NewEvent

ORDER = "order"
DOMAIN = "orders"
MAX_LINES = 100


class OrderStatus(StrEnum):
    PLACED = "placed"
    PAID = "paid"
    SHIPPED = "shipped"
    DELIVERED = "delivered"
    CANCELLED = "cancelled"


# Every legal status change; None is "no order yet". Projections may rely on this table.
TRANSITIONS: frozenset[tuple[OrderStatus | None, OrderStatus]] = frozenset(
    {
        (None, OrderStatus.PLACED),
        (OrderStatus.PLACED, OrderStatus.PAID),
        (OrderStatus.PLACED, OrderStatus.CANCELLED),
        (OrderStatus.PAID, OrderStatus.SHIPPED),
        (OrderStatus.PAID, OrderStatus.CANCELLED),
        (OrderStatus.SHIPPED, OrderStatus.DELIVERED),
    }
)


# --- errors ----------------------------------------------------------------------------------


class OrderNotFound(NotFound):
    code = "order_not_found"
    template = "order {order_id!r} does not exist"


class OrderAlreadyPlaced(InvariantViolation):
    code = "order_already_placed"
    template = "order {order_id!r} was already placed"


class OrderAlreadyPaid(InvariantViolation):
    code = "order_already_paid"
    template = "order {order_id!r} is already paid ({paid_cents} cents): cannot pay it again"


class OrderIsCancelled(InvariantViolation):
    code = "order_cancelled"
    template = "order {order_id!r} is cancelled: cannot {action}"


class OrderNotPaid(InvariantViolation):
    code = "order_not_paid"
    template = "order {order_id!r} is not paid (status {status}): cannot ship it"


class OrderNotShipped(InvariantViolation):
    code = "order_not_shipped"
    template = "order {order_id!r} is not shipped (status {status}): cannot deliver it"


class OrderAlreadyShipped(InvariantViolation):
    code = "order_already_shipped"
    template = "order {order_id!r} was already shipped: cannot {action}"


class OrderAlreadyDelivered(InvariantViolation):
    code = "order_already_delivered"
    template = "order {order_id!r} was already delivered: cannot {action}"


class PaymentAmountMismatch(InvariantViolation):
    code = "payment_amount_mismatch"
    template = (
        "payment of {amount_cents} cents for order {order_id!r} does not match "
        "its total of {total_cents} cents"
    )


# --- commands --------------------------------------------------------------------------------


@dataclass(frozen=True)
class OrderLine(Validated):
    product_id: str = v.identifier("the product ordered")
    quantity: int = v.quantity("units ordered")
    unit_price_cents: int = v.cents("price per unit in integer cents, as sold", minimum=0)

    @property
    def line_total_cents(self) -> int:
        return self.quantity * self.unit_price_cents

    def to_dict(self) -> dict[str, Any]:
        return {
            "product_id": self.product_id,
            "quantity": self.quantity,
            "unit_price_cents": self.unit_price_cents,
            "line_total_cents": self.line_total_cents,
        }


def _line(index: int, raw: Any) -> OrderLine:
    try:
        if isinstance(raw, OrderLine):
            return raw
        if isinstance(raw, Mapping):
            extra = set(raw) - {"product_id", "quantity", "unit_price_cents", "line_total_cents"}
            if extra:
                raise InvalidCommand(sorted(extra)[0], "unknown field")
            return OrderLine(
                raw.get("product_id"), raw.get("quantity"), raw.get("unit_price_cents")
            )
        if isinstance(raw, Sequence) and not isinstance(raw, str) and len(raw) == 3:
            return OrderLine(*raw)
    except InvalidCommand as err:
        raise InvalidCommand(f"lines[{index}].{err.field}", err.reason) from None
    raise InvalidCommand(
        f"lines[{index}]", "must be (product_id, quantity, unit_price_cents) or an object"
    )


def check_lines(name: str, value: Any) -> tuple[OrderLine, ...]:
    """Accepts OrderLines, 3-tuples or JSON objects; one line per product, so that a stock
    reservation is keyed by (product, order) without ambiguity."""
    if isinstance(value, str | bytes | Mapping) or not isinstance(value, Sequence):
        raise InvalidCommand(name, "must be a list of order lines")
    if not value:
        raise InvalidCommand(name, "an order needs at least one line")
    if len(value) > MAX_LINES:
        raise InvalidCommand(name, f"at most {MAX_LINES} lines, got {len(value)}")
    lines = tuple(_line(i, raw) for i, raw in enumerate(value))
    seen: set[str] = set()
    for i, line in enumerate(lines):
        if line.product_id in seen:
            raise InvalidCommand(
                f"{name}[{i}].product_id",
                f"product {line.product_id!r} appears twice: merge the quantities into one line",
            )
        seen.add(line.product_id)
    return lines


@dataclass(frozen=True)
class PlaceOrder(Command):
    aggregate_type: ClassVar[str] = ORDER
    id_field: ClassVar[str] = "order_id"

    order_id: str = v.identifier("id chosen by the caller")
    customer_id: str = v.identifier("the customer placing the order")
    lines: tuple[OrderLine, ...] = v.checked(
        check_lines, doc="[(product_id, quantity, unit_price_cents)], one line per product"
    )


@dataclass(frozen=True)
class PayOrder(Command):
    aggregate_type: ClassVar[str] = ORDER
    id_field: ClassVar[str] = "order_id"

    order_id: str = v.identifier("the order paid")
    amount_cents: int | None = v.optional_cents(
        "if given, must equal the order total (guards against paying a stale total)",
        maximum=v.MAX_ORDER_TOTAL,
    )


@dataclass(frozen=True)
class ShipOrder(Command):
    aggregate_type: ClassVar[str] = ORDER
    id_field: ClassVar[str] = "order_id"

    order_id: str = v.identifier("the order shipped")
    tracking_number: str | None = v.optional_text("carrier tracking number", max_len=v.MAX_TEXT)


@dataclass(frozen=True)
class DeliverOrder(Command):
    aggregate_type: ClassVar[str] = ORDER
    id_field: ClassVar[str] = "order_id"

    order_id: str = v.identifier("the order delivered")


@dataclass(frozen=True)
class CancelOrder(Command):
    aggregate_type: ClassVar[str] = ORDER
    id_field: ClassVar[str] = "order_id"

    order_id: str = v.identifier("the order cancelled")
    reason: str = v.text("why (free text, no personal data)")


COMMANDS: tuple[type[Command], ...] = (PlaceOrder, PayOrder, ShipOrder, DeliverOrder, CancelOrder)
EVENT_TYPES = ("OrderPlaced", "OrderPaid", "OrderShipped", "OrderDelivered", "OrderCancelled")
ERRORS = (
    OrderNotFound,
    OrderAlreadyPlaced,
    OrderAlreadyPaid,
    OrderIsCancelled,
    OrderNotPaid,
    OrderNotShipped,
    OrderAlreadyShipped,
    OrderAlreadyDelivered,
    PaymentAmountMismatch,
)


# --- state -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Order:
    order_id: str | None = None
    customer_id: str | None = None
    lines: tuple[OrderLine, ...] = ()
    total_cents: int = 0
    status: OrderStatus | None = None
    paid_cents: int = 0
    tracking_number: str | None = None
    cancel_reason: str | None = None

    @property
    def exists(self) -> bool:
        return self.order_id is not None


# --- decide ----------------------------------------------------------------------------------


def _existing(state: Order, order_id: str, action: str) -> OrderStatus:
    if state.status is None:
        raise OrderNotFound(order_id=order_id)
    if state.status is OrderStatus.CANCELLED:
        raise OrderIsCancelled(order_id=order_id, action=action)
    return state.status


def _place(state: Order, cmd: PlaceOrder) -> list[NewEvent]:
    if state.exists:
        raise OrderAlreadyPlaced(order_id=cmd.order_id)
    data = {
        "order_id": cmd.order_id,
        "customer_id": cmd.customer_id,
        "lines": [line.to_dict() for line in cmd.lines],
        "total_cents": sum(line.line_total_cents for line in cmd.lines),
    }
    return [NewEvent("OrderPlaced", data)]


def _pay(state: Order, cmd: PayOrder) -> list[NewEvent]:
    status = _existing(state, cmd.order_id, "pay it")
    if status is not OrderStatus.PLACED:
        raise OrderAlreadyPaid(order_id=cmd.order_id, paid_cents=state.paid_cents)
    if cmd.amount_cents is not None and cmd.amount_cents != state.total_cents:
        raise PaymentAmountMismatch(
            order_id=cmd.order_id, amount_cents=cmd.amount_cents, total_cents=state.total_cents
        )
    return [NewEvent("OrderPaid", {"order_id": cmd.order_id, "amount_cents": state.total_cents})]


def _ship(state: Order, cmd: ShipOrder) -> list[NewEvent]:
    status = _existing(state, cmd.order_id, "ship it")
    if status is OrderStatus.PLACED:
        raise OrderNotPaid(order_id=cmd.order_id, status=status.value)
    if status is OrderStatus.SHIPPED:
        raise OrderAlreadyShipped(order_id=cmd.order_id, action="ship it again")
    if status is OrderStatus.DELIVERED:
        raise OrderAlreadyDelivered(order_id=cmd.order_id, action="ship it")
    data = {"order_id": cmd.order_id, "tracking_number": cmd.tracking_number}
    return [NewEvent("OrderShipped", data)]


def _deliver(state: Order, cmd: DeliverOrder) -> list[NewEvent]:
    status = _existing(state, cmd.order_id, "deliver it")
    if status in (OrderStatus.PLACED, OrderStatus.PAID):
        raise OrderNotShipped(order_id=cmd.order_id, status=status.value)
    if status is OrderStatus.DELIVERED:
        raise OrderAlreadyDelivered(order_id=cmd.order_id, action="deliver it again")
    return [NewEvent("OrderDelivered", {"order_id": cmd.order_id})]


def _cancel(state: Order, cmd: CancelOrder) -> list[NewEvent]:
    status = _existing(state, cmd.order_id, "cancel it again")
    if status is OrderStatus.SHIPPED:
        raise OrderAlreadyShipped(order_id=cmd.order_id, action="cancel it")
    if status is OrderStatus.DELIVERED:
        raise OrderAlreadyDelivered(order_id=cmd.order_id, action="cancel it")
    data = {"order_id": cmd.order_id, "reason": cmd.reason, "previous_status": status.value}
    return [NewEvent("OrderCancelled", data)]


def decide(state: Order, command: Command) -> list[NewEvent]:
    match command:
        case PlaceOrder():
            return _place(state, command)
        case PayOrder():
            return _pay(state, command)
        case ShipOrder():
            return _ship(state, command)
        case DeliverOrder():
            return _deliver(state, command)
        case CancelOrder():
            return _cancel(state, command)
    raise UnknownCommand(command=type(command).__name__, reason=f"not an {ORDER} command")


# --- evolve ----------------------------------------------------------------------------------


def evolve(state: Order, event_type: str, data: dict[str, Any]) -> Order:
    if event_type == "OrderPlaced":
        lines = tuple(
            OrderLine(line["product_id"], line["quantity"], line["unit_price_cents"])
            for line in data["lines"]
        )
        return Order(
            order_id=data["order_id"],
            customer_id=data["customer_id"],
            lines=lines,
            total_cents=data["total_cents"],
            status=OrderStatus.PLACED,
        )
    if event_type == "OrderPaid":
        return replace(state, status=OrderStatus.PAID, paid_cents=data["amount_cents"])
    if event_type == "OrderShipped":
        return replace(
            state, status=OrderStatus.SHIPPED, tracking_number=data.get("tracking_number")
        )
    if event_type == "OrderDelivered":
        return replace(state, status=OrderStatus.DELIVERED)
    if event_type == "OrderCancelled":
        return replace(state, status=OrderStatus.CANCELLED, cancel_reason=data["reason"])
    raise UnknownEventType(ORDER, event_type)


AGGREGATE: Aggregate[Order] = Aggregate(
    aggregate_type=ORDER, domain=DOMAIN, initial=Order, decide=decide, evolve=evolve
)
