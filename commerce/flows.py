"""The process manager: which aggregates a user command touches, and in what order.

An aggregate decides alone, so a command whose effect spans aggregates (placing an order
reserves stock; cancelling releases it and refunds) becomes a list of `Step`s. `plan` is
pure: it reads current state only through the `load` function it is given. `run` executes a
plan as a saga through a caller-supplied `execute` (load, decide, append); if a step fails it
undoes, in reverse, the steps that did emit events, then re-raises the original error.

Ordering rule: the step on the aggregate the user addressed runs first, as the gatekeeper,
so its invariants (no paying twice, no cancelling a shipped order) are checked before any
side effect. PlaceOrder is the exception: stock is the constraint that can fail, so the
reservations run first and are compensated if a later one (or the order itself) fails.
Effects after a gatekeeper cannot fail in a consistent history, so they have no compensation.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from commerce.base import Command
from commerce.billing import CapturePayment, RefundPayment
from commerce.inventory import ReleaseStock, ReserveStock, ShipStock
from commerce.orders import ORDER, CancelOrder, Order, OrderStatus, PayOrder, PlaceOrder, ShipOrder
from hindsight.events import NewEvent

# (aggregate_type, aggregate_id) -> that aggregate's current state (initial() if no events).
Load = Callable[[str, str], Any]


@dataclass(frozen=True)
class Step:
    """One command for one aggregate.

    `compensation` undoes this step if a later step fails; run it only if this step emitted
    events (a no-op step must not be undone: it did nothing, and the state it found may
    belong to an earlier, successful flow). `pinned` marks a step whose aggregate `plan`
    loaded: append it with the expected version of the state that was loaded, so a
    concurrent change fails the flow with a conflict instead of running a stale plan.
    """

    aggregate_type: str
    aggregate_id: str
    command: Command
    compensation: Command | None = None
    pinned: bool = False


def step(command: Command, compensation: Command | None = None, *, pinned: bool = False) -> Step:
    return Step(command.aggregate_type, command.aggregate_id, command, compensation, pinned)


def plan(command: Command, load: Load) -> list[Step]:
    """The steps to run for `command`; a command without a flow is a single step."""
    match command:
        case PlaceOrder():
            reserve = [
                step(
                    ReserveStock(line.product_id, command.order_id, line.quantity),
                    ReleaseStock(line.product_id, command.order_id),
                )
                for line in command.lines
            ]
            return [*reserve, step(command)]
        case PayOrder():
            order = _order(load, command.order_id)
            steps = [step(command, pinned=True)]
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
            return [step(command, pinned=True), *ship]
        case CancelOrder():
            order = _order(load, command.order_id)
            steps = [step(command, pinned=True)]
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


Execute = Callable[[Step], Sequence[NewEvent]]


def run(steps: Sequence[Step], execute: Execute) -> list[tuple[Step, Sequence[NewEvent]]]:
    """Run `steps` in order through `execute` (which must load, decide and append one step).

    On any exception, compensate the steps that emitted events, latest first, then re-raise
    the original exception; a compensation that itself fails is recorded as a note on it.
    Returns each step with the events it emitted.
    """
    done: list[tuple[Step, Sequence[NewEvent]]] = []
    for current in steps:
        try:
            events = execute(current)
        except Exception as err:
            _compensate(done, execute, err)
            raise
        done.append((current, events))
    return done


def _compensate(
    done: Sequence[tuple[Step, Sequence[NewEvent]]], execute: Execute, err: Exception
) -> None:
    for previous, events in reversed(done):
        if not events or previous.compensation is None:
            continue
        undo = step(previous.compensation)
        try:
            execute(undo)
        except Exception as undo_err:  # keep undoing the rest; report every failure
            err.add_note(f"compensation {undo.command!r} failed: {undo_err!r}")
