from __future__ import annotations

import pytest
from hypothesis import given as for_all
from hypothesis import strategies as st

from commerce.base import InvalidCommand
from commerce.inventory import (
    AGGREGATE,
    InsufficientStock,
    ReceiveStock,
    ReleaseStock,
    ReservationConflict,
    ReservationNotFound,
    ReserveStock,
    ShipStock,
    Stock,
)
from hindsight.aggregate import DomainError
from tests.unit.commerce.support import decide, fold, given

RECEIVE_10 = ReceiveStock("p-1", 10)


def test_receive_adds_to_on_hand() -> None:
    state, events = given(RECEIVE_10, ReceiveStock("p-1", 5))
    assert [e.data for e in events] == [
        {"product_id": "p-1", "quantity": 10},
        {"product_id": "p-1", "quantity": 5},
    ]
    assert (state.on_hand, state.reserved, state.available) == (15, 0, 15)


def test_reserve_holds_units_per_order() -> None:
    state, events = given(RECEIVE_10, ReserveStock("p-1", "o-1", 4), ReserveStock("p-1", "o-2", 6))
    assert events[-1].data == {"product_id": "p-1", "order_id": "o-2", "quantity": 6}
    assert dict(state.reservations) == {"o-1": 4, "o-2": 6}
    assert (state.on_hand, state.reserved, state.available) == (10, 10, 0)


def test_reserving_more_than_available_names_ids_and_numbers() -> None:
    state, _ = given(RECEIVE_10, ReserveStock("p-1", "o-1", 7))
    with pytest.raises(InsufficientStock) as err:
        decide(AGGREGATE, state, ReserveStock("p-1", "o-2", 4))
    message = str(err.value)
    assert "'p-1'" in message and "'o-2'" in message
    assert "reserve 4" in message and "only 3 available" in message
    assert "10 on hand, 7 reserved" in message
    assert err.value.code == "insufficient_stock"


def test_reserving_with_no_stock_at_all_is_insufficient() -> None:
    with pytest.raises(InsufficientStock, match="only 0 available"):
        decide(AGGREGATE, Stock(), ReserveStock("p-1", "o-1", 1))


def test_the_same_reservation_again_is_a_no_op() -> None:
    state, _ = given(RECEIVE_10, ReserveStock("p-1", "o-1", 4))
    assert decide(AGGREGATE, state, ReserveStock("p-1", "o-1", 4)) == []


def test_a_different_quantity_for_a_held_reservation_conflicts() -> None:
    state, _ = given(RECEIVE_10, ReserveStock("p-1", "o-1", 4))
    with pytest.raises(ReservationConflict, match="'o-1' already holds 4 of product 'p-1'") as e:
        decide(AGGREGATE, state, ReserveStock("p-1", "o-1", 5))
    assert e.value.code == "reservation_conflict"


def test_release_returns_the_whole_reservation() -> None:
    state, events = given(RECEIVE_10, ReserveStock("p-1", "o-1", 4), ReleaseStock("p-1", "o-1"))
    assert events[-1].data == {"product_id": "p-1", "order_id": "o-1", "quantity": 4}
    assert (state.on_hand, state.reserved) == (10, 0)


def test_releasing_nothing_is_a_no_op() -> None:
    state, _ = given(RECEIVE_10)
    assert decide(AGGREGATE, state, ReleaseStock("p-1", "o-1")) == []


def test_ship_consumes_the_reservation_and_the_units() -> None:
    state, events = given(RECEIVE_10, ReserveStock("p-1", "o-1", 4), ShipStock("p-1", "o-1"))
    assert events[-1].event_type == "StockShipped"
    assert events[-1].data["quantity"] == 4
    assert (state.on_hand, state.reserved, dict(state.reservations)) == (6, 0, {})


def test_shipping_without_reservation_is_refused_naming_ids() -> None:
    state, _ = given(RECEIVE_10)
    with pytest.raises(ReservationNotFound, match="order 'o-1' .* product 'p-1'") as err:
        decide(AGGREGATE, state, ShipStock("p-1", "o-1"))
    assert err.value.code == "reservation_not_found"


@pytest.mark.parametrize("quantity", [0, -3])
def test_quantities_must_be_positive(quantity: int) -> None:
    with pytest.raises(InvalidCommand) as err:
        ReserveStock("p-1", "o-1", quantity)
    assert (err.value.field, err.value.command) == ("quantity", "ReserveStock")


orders = st.sampled_from(["o-1", "o-2", "o-3"])
inventory_commands = st.one_of(
    st.builds(ReceiveStock, st.just("p-1"), st.integers(1, 5)),
    st.builds(ReserveStock, st.just("p-1"), orders, st.integers(1, 6)),
    st.builds(ReleaseStock, st.just("p-1"), orders),
    st.builds(ShipStock, st.just("p-1"), orders),
)


@for_all(st.lists(inventory_commands, max_size=40))
def test_stock_is_never_over_reserved_and_equals_the_fold(seq: list) -> None:
    state, accepted = Stock(), []
    received = shipped = 0
    for command in seq:
        try:
            events = decide(AGGREGATE, state, command)
        except DomainError:
            continue
        accepted += events
        state = AGGREGATE.fold([(e.event_type, e.data) for e in events], state)
        received += sum(e.data["quantity"] for e in events if e.event_type == "StockReceived")
        shipped += sum(e.data["quantity"] for e in events if e.event_type == "StockShipped")
        assert 0 <= state.reserved <= state.on_hand
        assert state.available >= 0
        assert all(q > 0 for q in state.reservations.values())
        assert state.on_hand == received - shipped
    assert fold(AGGREGATE, accepted) == state
