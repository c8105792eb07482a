from __future__ import annotations

from collections.abc import Sequence

import pytest
from hypothesis import given as for_all
from hypothesis import settings
from hypothesis import strategies as st

from commerce.base import Command
from commerce.billing import CapturePayment, RefundPayment
from commerce.catalog import CreateProduct
from commerce.flows import Step, plan, run
from commerce.inventory import (
    InsufficientStock,
    ReceiveStock,
    ReleaseStock,
    ReserveStock,
)
from commerce.orders import (
    CancelOrder,
    DeliverOrder,
    Order,
    OrderAlreadyPlaced,
    OrderIsCancelled,
    OrderStatus,
    PayOrder,
    PlaceOrder,
    ShipOrder,
)
from hindsight.aggregate import DomainError
from hindsight.events import NewEvent
from tests.unit.commerce.support import MemoryStore

PLACE = PlaceOrder("o-1", "c-1", (("p-1", 2, 1000), ("p-2", 1, 500)))


def stocked(**units: int) -> MemoryStore:
    store = MemoryStore()
    for product_id, quantity in units.items():
        store.handle(ReceiveStock(product_id.replace("_", "-"), quantity))
    store.log.clear()
    return store


def targets(steps: Sequence[Step]) -> list[tuple[str, str, str]]:
    return [(s.aggregate_type, s.aggregate_id, type(s.command).__name__) for s in steps]


def test_place_order_reserves_every_line_then_places_the_order() -> None:
    steps = plan(PLACE, MemoryStore().load)
    assert targets(steps) == [
        ("stock", "p-1", "ReserveStock"),
        ("stock", "p-2", "ReserveStock"),
        ("order", "o-1", "PlaceOrder"),
    ]
    assert steps[0].command == ReserveStock("p-1", "o-1", 2)
    assert steps[0].compensation == ReleaseStock("p-1", "o-1")
    assert steps[2].compensation is None


def test_pay_order_gates_on_the_order_then_captures_its_total() -> None:
    store = stocked(p_1=5, p_2=5)
    store.handle(PLACE)
    steps = plan(PayOrder("o-1"), store.load)
    assert targets(steps) == [("order", "o-1", "PayOrder"), ("payment", "o-1", "CapturePayment")]
    assert steps[0].pinned
    assert steps[1].command == CapturePayment("o-1", "o-1", "c-1", 2500)


def test_pay_unknown_order_is_just_the_gate_step() -> None:
    assert targets(plan(PayOrder("o-9"), MemoryStore().load)) == [("order", "o-9", "PayOrder")]


def test_ship_order_ships_each_reservation_after_the_order() -> None:
    store = stocked(p_1=5, p_2=5)
    store.handle(PLACE)
    assert targets(plan(ShipOrder("o-1"), store.load)) == [
        ("order", "o-1", "ShipOrder"),
        ("stock", "p-1", "ShipStock"),
        ("stock", "p-2", "ShipStock"),
    ]


def test_cancel_releases_stock_and_refunds_only_a_paid_order() -> None:
    store = stocked(p_1=5, p_2=5)
    store.handle(PLACE)
    cancel = CancelOrder("o-1", "too slow")
    unpaid = targets(plan(cancel, store.load))
    store.handle(PayOrder("o-1"))
    paid = plan(cancel, store.load)
    assert (
        unpaid
        == targets(paid)[:-1]
        == [
            ("order", "o-1", "CancelOrder"),
            ("stock", "p-1", "ReleaseStock"),
            ("stock", "p-2", "ReleaseStock"),
        ]
    )
    assert paid[-1].command == RefundPayment("o-1", "order cancelled: too slow")


def test_a_command_without_a_flow_is_one_step() -> None:
    command = CreateProduct("p-1", "Lamp", "lighting", 100)
    assert plan(command, MemoryStore().load) == [Step("product", "p-1", command)]


def test_order_lifecycle_end_to_end() -> None:
    store = stocked(p_1=5, p_2=5)
    for command in (PLACE, PayOrder("o-1"), ShipOrder("o-1"), DeliverOrder("o-1")):
        store.handle(command)
    assert store.event_types() == [
        "StockReserved",
        "StockReserved",
        "OrderPlaced",
        "OrderPaid",
        "PaymentCaptured",
        "OrderShipped",
        "StockShipped",
        "StockShipped",
        "OrderDelivered",
    ]
    assert store.load("stock", "p-1").on_hand == 3
    assert store.load("stock", "p-1").reserved == 0
    assert store.load("payment", "o-1").captured_cents == 2500


def test_insufficient_stock_on_a_later_line_releases_the_earlier_ones() -> None:
    store = stocked(p_1=5)
    with pytest.raises(InsufficientStock, match="'p-2'"):
        store.handle(PLACE)
    assert store.event_types() == ["StockReserved", "StockReleased"]
    assert store.load("stock", "p-1").available == 5
    assert not store.load("order", "o-1").exists


def test_a_duplicate_place_order_leaves_the_original_reservations_alone() -> None:
    store = stocked(p_1=5, p_2=5)
    store.handle(PLACE)
    store.log.clear()
    with pytest.raises(OrderAlreadyPlaced):
        store.handle(PLACE)
    assert store.event_types() == []  # the re-reservations were no-ops, so nothing is undone
    assert store.load("stock", "p-1").reserved == 2


def test_cancelling_a_paid_order_releases_and_refunds() -> None:
    store = stocked(p_1=5, p_2=5)
    store.handle(PLACE)
    store.handle(PayOrder("o-1"))
    store.log.clear()
    store.handle(CancelOrder("o-1", "too slow"))
    assert store.event_types() == [
        "OrderCancelled",
        "StockReleased",
        "StockReleased",
        "PaymentRefunded",
    ]
    assert store.load("payment", "o-1").refundable_cents == 0
    assert store.load("stock", "p-2").available == 5


def test_a_rejected_gate_step_runs_no_effects() -> None:
    store = stocked(p_1=5, p_2=5)
    store.handle(PLACE)
    store.handle(CancelOrder("o-1", "x"))
    store.log.clear()
    with pytest.raises(OrderIsCancelled):
        store.handle(PayOrder("o-1"))
    assert store.event_types() == []


def test_run_returns_the_events_of_each_step() -> None:
    store = stocked(p_1=5, p_2=5)
    done = store.handle(PLACE)
    assert [(type(s.command).__name__, len(events)) for s, events in done] == [
        ("ReserveStock", 1),
        ("ReserveStock", 1),
        ("PlaceOrder", 1),
    ]


def test_a_failing_compensation_is_noted_on_the_original_error() -> None:
    boom = RuntimeError("store down")

    def execute(step: Step) -> list[NewEvent]:
        if isinstance(step.command, ReleaseStock):
            raise ConnectionError("still down")
        if isinstance(step.command, PlaceOrder):
            raise boom
        return [NewEvent("StockReserved", {})]

    with pytest.raises(RuntimeError) as err:
        run(plan(PLACE, MemoryStore().load), execute)
    assert err.value is boom
    notes = err.value.__notes__
    assert len(notes) == 2 and "ReleaseStock(product_id='p-2'" in notes[0]


# --- the whole shop, driven by random commands through the flows ------------------------------

PRODUCTS = ("p-1", "p-2", "p-3")
ORDERS = ("o-0", "o-1", "o-2", "o-3")
line_sets = st.dictionaries(
    st.sampled_from(PRODUCTS), st.tuples(st.integers(1, 4), st.integers(0, 500)), min_size=1
)
noise = st.one_of(
    st.builds(ReceiveStock, st.sampled_from(PRODUCTS), st.integers(1, 6)),
    st.builds(PayOrder, st.sampled_from(ORDERS)),
    st.builds(ShipOrder, st.sampled_from(ORDERS)),
    st.builds(DeliverOrder, st.sampled_from(ORDERS)),
    st.builds(CancelOrder, st.sampled_from(ORDERS), st.just("r")),
)


@st.composite
def shop_histories(draw: st.DrawFn) -> list[Command]:
    """Opening stock, then per-order lifecycles (possibly cancelled) interleaved at random
    with stray commands, so most commands are meaningful and some are illegal."""
    opening = [ReceiveStock(p, q) for p in PRODUCTS if (q := draw(st.integers(0, 8)))]
    scripts: list[list[Command]] = []
    for order_id in ORDERS[: draw(st.integers(1, len(ORDERS)))]:
        lines = [(p, q, c) for p, (q, c) in draw(line_sets).items()]
        life: list[Command] = [
            PlaceOrder(order_id, "c-1", lines),
            PayOrder(order_id),
            ShipOrder(order_id),
            DeliverOrder(order_id),
        ][: draw(st.integers(1, 4))]
        if draw(st.booleans()):
            life.insert(draw(st.integers(1, len(life))), CancelOrder(order_id, "r"))
        scripts.append(life)
    scripts += [[c] for c in draw(st.lists(noise, max_size=6))]
    turns = draw(st.permutations([i for i, script in enumerate(scripts) for _ in script]))
    cursors = [iter(script) for script in scripts]
    return [*opening, *(next(cursors[i]) for i in turns)]


HOLDING = (OrderStatus.PLACED, OrderStatus.PAID)
SHIPPED = (OrderStatus.SHIPPED, OrderStatus.DELIVERED)


def assert_consistent(store: MemoryStore, received: dict[str, int]) -> None:
    orders: list[Order] = [store.load("order", o) for o in ORDERS]
    for p in PRODUCTS:
        stock = store.load("stock", p)

        def units(statuses: tuple[OrderStatus, ...], product: str = p) -> int:
            return sum(
                line.quantity
                for order in orders
                if order.status in statuses
                for line in order.lines
                if line.product_id == product
            )

        assert stock.reserved == units(HOLDING)
        assert stock.on_hand == received[p] - units(SHIPPED)
        assert stock.available >= 0
    for order_id, order in zip(ORDERS, orders, strict=True):
        payment = store.load("payment", order_id)
        assert payment.captured_cents == order.paid_cents
        if order.status is OrderStatus.CANCELLED:
            assert payment.refundable_cents == 0
        else:
            assert payment.refunded_cents == 0


@settings(max_examples=60)
@for_all(shop_histories())
def test_stock_reservations_and_payments_always_match_the_orders(history: list[Command]) -> None:
    store = MemoryStore()
    received = dict.fromkeys(PRODUCTS, 0)
    for command in history:
        try:
            store.handle(command)
        except DomainError:
            pass
        else:
            if isinstance(command, ReceiveStock):
                received[command.product_id] += command.quantity
        assert_consistent(store, received)
