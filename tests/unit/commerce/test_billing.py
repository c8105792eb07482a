from __future__ import annotations

import pytest
from hypothesis import given as for_all
from hypothesis import strategies as st

from commerce.base import InvalidCommand
from commerce.billing import (
    AGGREGATE,
    CapturePayment,
    Payment,
    PaymentAlreadyCaptured,
    PaymentAlreadyRefunded,
    PaymentNotFound,
    RefundExceedsCapture,
    RefundPayment,
)
from hindsight.aggregate import DomainError
from tests.unit.commerce.support import decide, fold, given

CAPTURE = CapturePayment("o-1", "o-1", "c-1", 2599)


def test_capture_records_order_customer_and_amount() -> None:
    state, events = given(CAPTURE)
    assert events[0].event_type == "PaymentCaptured"
    assert events[0].data == {
        "payment_id": "o-1",
        "order_id": "o-1",
        "customer_id": "c-1",
        "amount_cents": 2599,
    }
    assert (state.captured_cents, state.refunded_cents, state.refundable_cents) == (2599, 0, 2599)


def test_capturing_twice_is_rejected_naming_payment_order_and_amount() -> None:
    state, _ = given(CAPTURE)
    with pytest.raises(PaymentAlreadyCaptured, match="'o-1' already captured 2599 cents") as err:
        decide(AGGREGATE, state, CAPTURE)
    assert err.value.code == "payment_already_captured"


def test_refund_without_amount_refunds_everything_left() -> None:
    state, events = given(CAPTURE, RefundPayment("o-1", "cancelled"))
    assert events[-1].data == {
        "payment_id": "o-1",
        "order_id": "o-1",
        "customer_id": "c-1",
        "amount_cents": 2599,
        "reason": "cancelled",
    }
    assert state.refundable_cents == 0


def test_partial_refunds_add_up_to_the_capture() -> None:
    state, _ = given(CAPTURE, RefundPayment("o-1", "dent", 599), RefundPayment("o-1", "rest"))
    assert (state.refunded_cents, state.refundable_cents) == (2599, 0)


def test_refunding_more_than_remains_names_the_numbers() -> None:
    state, _ = given(CAPTURE, RefundPayment("o-1", "dent", 2000))
    with pytest.raises(RefundExceedsCapture) as err:
        decide(AGGREGATE, state, RefundPayment("o-1", "again", 600))
    assert str(err.value) == (
        "cannot refund 600 cents of payment 'o-1': only 599 of the 2599 captured cents "
        "remain refundable"
    )


def test_refunding_twice_is_a_double_refund() -> None:
    state, _ = given(CAPTURE, RefundPayment("o-1", "cancelled"))
    with pytest.raises(PaymentAlreadyRefunded, match="'o-1' was already fully refunded") as err:
        decide(AGGREGATE, state, RefundPayment("o-1", "cancelled"))
    assert err.value.code == "payment_already_refunded"


def test_refunding_an_uncaptured_payment_is_not_found() -> None:
    with pytest.raises(PaymentNotFound, match="'o-9'"):
        decide(AGGREGATE, Payment(), RefundPayment("o-9", "why"))


def test_amounts_must_be_positive() -> None:
    with pytest.raises(InvalidCommand) as err:
        CapturePayment("o-1", "o-1", "c-1", 0)
    assert err.value.field == "amount_cents"


billing_commands = st.one_of(
    st.builds(
        CapturePayment, st.just("pay-1"), st.just("o-1"), st.just("c-1"), st.integers(1, 500)
    ),
    st.builds(RefundPayment, st.just("pay-1"), st.just("r"), st.none() | st.integers(1, 300)),
)


@for_all(st.lists(billing_commands, max_size=20))
def test_refunds_never_exceed_the_capture(seq: list) -> None:
    state, accepted = Payment(), []
    for command in seq:
        try:
            events = decide(AGGREGATE, state, command)
        except DomainError:
            continue
        accepted += events
        state = AGGREGATE.fold([(e.event_type, e.data) for e in events], state)
        assert 0 <= state.refunded_cents <= state.captured_cents
    types = [e.event_type for e in accepted]
    assert types.count("PaymentCaptured") <= 1
    assert fold(AGGREGATE, accepted) == state
