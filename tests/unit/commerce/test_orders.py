from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given as for_all
from hypothesis import strategies as st

from commerce.base import Command, InvalidCommand
from commerce.orders import (
    AGGREGATE,
    TRANSITIONS,
    CancelOrder,
    DeliverOrder,
    Order,
    OrderAlreadyDelivered,
    OrderAlreadyPaid,
    OrderAlreadyPlaced,
    OrderAlreadyShipped,
    OrderIsCancelled,
    OrderLine,
    OrderNotFound,
    OrderNotPaid,
    OrderNotShipped,
    OrderStatus,
    PaymentAmountMismatch,
    PayOrder,
    PlaceOrder,
    ShipOrder,
)
from hindsight.aggregate import DomainError
from tests.unit.commerce.support import decide, fold, given

PLACE = PlaceOrder("o-1", "c-1", (("p-1", 2, 1250), ("p-2", 1, 99)))
PAY = PayOrder("o-1")
SHIP = ShipOrder("o-1", "TRACK-1")
DELIVER = DeliverOrder("o-1")
CANCEL = CancelOrder("o-1", "changed my mind")

HISTORIES: dict[str, tuple[Command, ...]] = {
    "none": (),
    "placed": (PLACE,),
    "paid": (PLACE, PAY),
    "shipped": (PLACE, PAY, SHIP),
    "delivered": (PLACE, PAY, SHIP, DELIVER),
    "cancelled": (PLACE, CANCEL),
    "cancelled-after-paid": (PLACE, PAY, CANCEL),
}


def state_at(name: str) -> Order:
    commands = HISTORIES[name]
    return given(*commands)[0] if commands else Order()


def test_place_order_computes_line_and_order_totals() -> None:
    state, events = given(PLACE)
    assert events[0].event_type == "OrderPlaced"
    assert events[0].data == {
        "order_id": "o-1",
        "customer_id": "c-1",
        "lines": [
            {
                "product_id": "p-1",
                "quantity": 2,
                "unit_price_cents": 1250,
                "line_total_cents": 2500,
            },
            {"product_id": "p-2", "quantity": 1, "unit_price_cents": 99, "line_total_cents": 99},
        ],
        "total_cents": 2599,
    }
    assert state.status is OrderStatus.PLACED
    assert state.lines == (OrderLine("p-1", 2, 1250), OrderLine("p-2", 1, 99))
    assert state.total_cents == 2599


def test_full_lifecycle() -> None:
    state, events = given(PLACE, PayOrder("o-1", 2599), SHIP, DELIVER)
    assert [e.event_type for e in events] == [
        "OrderPlaced",
        "OrderPaid",
        "OrderShipped",
        "OrderDelivered",
    ]
    assert events[1].data == {"order_id": "o-1", "amount_cents": 2599}
    assert events[2].data == {"order_id": "o-1", "tracking_number": "TRACK-1"}
    assert (state.status, state.paid_cents, state.tracking_number) == ("delivered", 2599, "TRACK-1")


@pytest.mark.parametrize("before", ["placed", "paid"])
def test_cancel_records_the_status_it_left(before: str) -> None:
    events = decide(AGGREGATE, state_at(before), CANCEL)
    assert events[0].data == {
        "order_id": "o-1",
        "reason": "changed my mind",
        "previous_status": before,
    }


# (state, command) -> the error it must raise; every invariant of the order lifecycle.
REJECTIONS: list[tuple[str, Command, type[DomainError]]] = [
    ("placed", PLACE, OrderAlreadyPlaced),
    ("cancelled", PLACE, OrderAlreadyPlaced),
    ("none", PAY, OrderNotFound),
    ("paid", PAY, OrderAlreadyPaid),
    ("shipped", PAY, OrderAlreadyPaid),
    ("delivered", PAY, OrderAlreadyPaid),
    ("cancelled", PAY, OrderIsCancelled),
    ("cancelled-after-paid", PAY, OrderIsCancelled),
    ("none", SHIP, OrderNotFound),
    ("placed", SHIP, OrderNotPaid),
    ("shipped", SHIP, OrderAlreadyShipped),
    ("delivered", SHIP, OrderAlreadyDelivered),
    ("cancelled", SHIP, OrderIsCancelled),
    ("none", DELIVER, OrderNotFound),
    ("placed", DELIVER, OrderNotShipped),
    ("paid", DELIVER, OrderNotShipped),
    ("delivered", DELIVER, OrderAlreadyDelivered),
    ("cancelled", DELIVER, OrderIsCancelled),
    ("none", CANCEL, OrderNotFound),
    ("shipped", CANCEL, OrderAlreadyShipped),
    ("delivered", CANCEL, OrderAlreadyDelivered),
    ("cancelled", CANCEL, OrderIsCancelled),
]


@pytest.mark.parametrize(("before", "command", "error"), REJECTIONS)
def test_illegal_commands_raise_a_named_error_naming_the_order(
    before: str, command: Command, error: type[DomainError]
) -> None:
    with pytest.raises(error) as err:
        decide(AGGREGATE, state_at(before), command)
    assert type(err.value) is error
    assert "'o-1'" in str(err.value)
    assert err.value.code not in ("domain_error", "commerce_error")


def test_paying_a_wrong_amount_names_both_numbers() -> None:
    with pytest.raises(PaymentAmountMismatch, match="2600 cents .* 'o-1' .* 2599 cents"):
        decide(AGGREGATE, state_at("placed"), PayOrder("o-1", 2600))


@pytest.mark.parametrize(
    ("lines", "field", "reason"),
    [
        ((), "lines", "at least one line"),
        ([("p-1", 0, 100)], "lines[0].quantity", "must be >= 1"),
        ([("p-1", 1, 100), ("p-2", -2, 100)], "lines[1].quantity", "must be >= 1"),
        ([("p-1", 1, -1)], "lines[0].unit_price_cents", "must be >= 0"),
        ([("p-1", 1, 100), ("p-1", 2, 100)], "lines[1].product_id", "appears twice"),
        ([("p-1", 1)], "lines[0]", "must be"),
        ([{"product_id": "p-1", "quantity": 1, "price": 3}], "lines[0].price", "unknown field"),
        ("p-1", "lines", "list of order lines"),
    ],
)
def test_malformed_orders_are_invalid_naming_the_field(lines: Any, field: str, reason: str) -> None:
    with pytest.raises(InvalidCommand, match=reason) as err:
        PlaceOrder("o-1", "c-1", lines)
    assert (err.value.field, err.value.command) == (field, "PlaceOrder")


def test_lines_may_be_given_as_json_objects() -> None:
    order = PlaceOrder("o-1", "c-1", [{"product_id": "p-1", "quantity": 3, "unit_price_cents": 5}])
    assert order.lines == (OrderLine("p-1", 3, 5),)


order_commands = st.sampled_from(
    [PLACE, PAY, PayOrder("o-1", 1), SHIP, ShipOrder("o-1"), DELIVER, CANCEL]
)


@for_all(st.lists(order_commands, max_size=25))
def test_status_transitions_are_always_legal(seq: list[Command]) -> None:
    state, accepted = Order(), []
    for command in seq:
        try:
            events = decide(AGGREGATE, state, command)
        except DomainError:
            continue
        before = state.status
        accepted += events
        state = AGGREGATE.fold([(e.event_type, e.data) for e in events], state)
        assert (before, state.status) in TRANSITIONS
    types = [e.event_type for e in accepted]
    assert types.count("OrderPaid") <= 1
    assert types.count("OrderPlaced") <= 1
    if "OrderShipped" in types:
        assert "OrderPaid" in types[: types.index("OrderShipped")]
        assert "OrderCancelled" not in types
    if "OrderDelivered" in types:
        assert "OrderShipped" in types[: types.index("OrderDelivered")]
    assert fold(AGGREGATE, accepted) == state
