"""The process manager: which aggregates a user command touches, and in what order.

An aggregate decides alone, so a command whose effect spans aggregates (placing an order
reserves stock; cancelling releases it and refunds) becomes a list of `Step`s. `plan` is
pure: it reads current state only through the `load` function it is given. The command
handler (hindsight.commands) decides every step in memory, each against the state the steps
before it left, and appends all of them in one transaction with the expected version of every
stream it read: a step that refuses (not enough stock on a later line, paying twice) fails the
command and nothing is written, so no step ever needs undoing, and a concurrent change to any
stream read fails the command with a conflict instead of running a stale plan.

Ordering rule: the step on the aggregate the user addressed runs first, as the gatekeeper,
so its invariants (no paying twice, no cancelling a shipped order) are checked before any
side effect. PlaceOrder is the exception: stock is the constraint that can fail, so the
reservations are decided first.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from commerce.base import Command
from commerce.billing import CapturePayment, RefundPayment
from commerce.inventory import ReleaseStock, ReserveStock, ShipStock
from commerce.orders import ORDER, CancelOrder, Order, OrderStatus, PayOrder, PlaceOrder, ShipOrder

# (aggregate_type, aggregate_id) -> that aggregate's current state (initial() if no events).
Load = Callable[[str, str], Any]


@dataclass(frozen=True)
class Step:
    """One command for one aggregate."""

    aggregate_type: str
    aggregate_id: str
    command: Command


def step(command: Command) -> Step:
    return Step(command.aggregate_type, command.aggregate_id, command)


def plan(command: Command, load: Load) -> list[Step]:
    """The steps to run for `command`; a command without a flow is a single step."""
    match command:
        case PlaceOrder():
            reserve = [
                step(ReserveStock(line.product_id, command.order_id, line.quantity))
                for line in command.lines
            ]
            return [*reserve, step(command)]
        case PayOrder():
            order = _order(load, command.order_id)
            steps = [step(command)]
            amount = order.total_cents if command.amount_cents is None else command.amount_cents
            if order.customer_id is not None and amount > 0:
                capture = CapturePayment(
                    command.order_id, command.order_id, order.customer_id, amount
                )
                steps.append(step(capture))
            return steps
        case ShipOrder():
            order = _order(load, command.order_id)
            ship = [step(ShipStock(line.product_id, command.order_id)) for line in order.lines]
            return [step(command), *ship]
        case CancelOrder():
            order = _order(load, command.order_id)
            steps = [step(command)]
            steps += [step(ReleaseStock(line.product_id, command.order_id)) for line in order.lines]
            if order.status is OrderStatus.PAID and order.paid_cents > 0:
                refund = RefundPayment(command.order_id, f"order cancelled: {command.reason}")
                steps.append(step(refund))
            return steps
    return [step(command)]


def _order(load: Load, order_id: str) -> Order:
    state = load(ORDER, order_id)
    if not isinstance(state, Order):
        raise TypeError(f"load({ORDER!r}, {order_id!r}) returned {type(state).__name__}")
    return state
