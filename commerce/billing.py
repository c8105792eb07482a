"""Billing: money actually taken and given back, one aggregate per payment.

The flows use payment_id = order_id (one payment per order), but billing does not depend on
that. Partial refunds are allowed as long as their sum never exceeds the captured amount;
once everything is refunded, another refund is a double refund and is rejected. Refund and
capture events carry order_id and customer_id so that revenue and customer lifetime value
can be projected from billing alone.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, ClassVar

from commerce import base as v
from commerce.base import Command, InvariantViolation, NotFound, UnknownCommand, UnknownEventType
from hindsight.aggregate import Aggregate
from hindsight.events import NewEvent

PAYMENT = "payment"
DOMAIN = "billing"


class PaymentNotFound(NotFound):
    code = "payment_not_found"
    template = "payment {payment_id!r} was never captured: nothing to refund"


class PaymentAlreadyCaptured(InvariantViolation):
    code = "payment_already_captured"
    template = (
        "payment {payment_id!r} already captured {captured_cents} cents for order {order_id!r}"
    )


class RefundExceedsCapture(InvariantViolation):
    code = "refund_exceeds_capture"
    template = (
        "cannot refund {amount_cents} cents of payment {payment_id!r}: only {refundable_cents} "
        "of the {captured_cents} captured cents remain refundable"
    )


class PaymentAlreadyRefunded(InvariantViolation):
    code = "payment_already_refunded"
    template = "payment {payment_id!r} was already fully refunded ({refunded_cents} cents)"


@dataclass(frozen=True)
class CapturePayment(Command):
    aggregate_type: ClassVar[str] = PAYMENT
    id_field: ClassVar[str] = "payment_id"

    payment_id: str = v.identifier("payment id (the flows use the order id)")
    order_id: str = v.identifier("the order paid for")
    customer_id: str = v.identifier("the customer who paid")
    amount_cents: int = v.cents("amount taken, integer cents", maximum=v.MAX_ORDER_TOTAL)


@dataclass(frozen=True)
class RefundPayment(Command):
    aggregate_type: ClassVar[str] = PAYMENT
    id_field: ClassVar[str] = "payment_id"

    payment_id: str = v.identifier("the payment to refund")
    reason: str = v.text("why (free text, no personal data)")
    amount_cents: int | None = v.optional_cents(
        "amount to refund; default: all that remains", maximum=v.MAX_ORDER_TOTAL
    )


COMMANDS: tuple[type[Command], ...] = (CapturePayment, RefundPayment)
EVENT_TYPES = ("PaymentCaptured", "PaymentRefunded")
ERRORS = (PaymentNotFound, PaymentAlreadyCaptured, RefundExceedsCapture, PaymentAlreadyRefunded)


@dataclass(frozen=True)
class Payment:
    payment_id: str | None = None
    order_id: str | None = None
    customer_id: str | None = None
    captured_cents: int = 0
    refunded_cents: int = 0

    @property
    def exists(self) -> bool:
        return self.payment_id is not None

    @property
    def refundable_cents(self) -> int:
        return self.captured_cents - self.refunded_cents


def decide(state: Payment, command: Command) -> list[NewEvent]:
    match command:
        case CapturePayment():
            if state.exists:
                raise PaymentAlreadyCaptured(
                    payment_id=command.payment_id,
                    order_id=state.order_id,
                    captured_cents=state.captured_cents,
                )
            data = {
                "payment_id": command.payment_id,
                "order_id": command.order_id,
                "customer_id": command.customer_id,
                "amount_cents": command.amount_cents,
            }
            return [NewEvent("PaymentCaptured", data)]
        case RefundPayment():
            if not state.exists:
                raise PaymentNotFound(payment_id=command.payment_id)
            if state.refundable_cents == 0:
                raise PaymentAlreadyRefunded(
                    payment_id=command.payment_id, refunded_cents=state.refunded_cents
                )
            amount = (
                state.refundable_cents if command.amount_cents is None else command.amount_cents
            )
            if amount > state.refundable_cents:
                raise RefundExceedsCapture(
                    payment_id=command.payment_id,
                    amount_cents=amount,
                    refundable_cents=state.refundable_cents,
                    captured_cents=state.captured_cents,
                )
            data = {
                "payment_id": command.payment_id,
                "order_id": state.order_id,
                "customer_id": state.customer_id,
                "amount_cents": amount,
                "reason": command.reason,
            }
            return [NewEvent("PaymentRefunded", data)]
    raise UnknownCommand(command=type(command).__name__, reason=f"not a {PAYMENT} command")


def evolve(state: Payment, event_type: str, data: dict[str, Any]) -> Payment:
    if event_type == "PaymentCaptured":
        return Payment(
            payment_id=data["payment_id"],
            order_id=data["order_id"],
            customer_id=data["customer_id"],
            captured_cents=data["amount_cents"],
        )
    if event_type == "PaymentRefunded":
        return replace(state, refunded_cents=state.refunded_cents + data["amount_cents"])
    raise UnknownEventType(PAYMENT, event_type)


AGGREGATE: Aggregate[Payment] = Aggregate(
    aggregate_type=PAYMENT, domain=DOMAIN, initial=Payment, decide=decide, evolve=evolve
)
