"""Flows: which aggregates a command touches, in what order (plan, pure), and what the
product's command handler makes of them on a real store: every step decided in memory and
appended in one transaction, so a refusal anywhere writes nothing."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given as for_all
from hypothesis import settings
from hypothesis import strategies as st

from commerce.base import Command
from commerce.billing import CapturePayment, RefundPayment
from commerce.catalog import CreateProduct
from commerce.flows import Step, plan
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
from entrypoints import bootstrap
from hindsight.aggregate import DomainError
from hindsight.commands import CommandHandler
from hindsight.settings import Settings
from tests.unit.commerce.support import MemoryStore

PLACE = PlaceOrder("o-1", "c-1", (("p-1", 2, 1000), ("p-2", 1, 500)))


class Shop:
    """The product's command handler on a real (SQLite) store in a temporary directory."""

    def __init__(self, handler: CommandHandler) -> None:
        self.handler = handler
        self.mark = 0

    def handle(self, command: Command) -> None:
        self.handler.execute(command)

    def load(self, aggregate_type: str, aggregate_id: str) -> Any:
        aggregate = self.handler.domain.aggregates[aggregate_type]
        return self.handler.repo.load(aggregate, aggregate_id).state

    def clear(self) -> None:
        self.mark = self.handler.store.last_position()

    def event_types(self) -> list[str]:
        """What was written since the last `clear`, in log order."""
        return [e.event_type for e in self.handler.store.read_all(self.mark + 1, 10**6)]


@contextmanager
def shop(**units: int) -> Iterator[Shop]:
    with tempfile.TemporaryDirectory() as tmp:
        # NORMAL: a test process need not survive power loss, and commits are ~5x cheaper
        handler = bootstrap.command_handler(Settings(home=Path(tmp), sqlite_synchronous="NORMAL"))
        try:
            s = Shop(handler)
            for product_id, quantity in units.items():
                s.handle(ReceiveStock(product_id.replace("_", "-"), quantity))
            s.clear()
            yield s
        finally:
            handler.store.close()


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


def test_pay_order_gates_on_the_order_then_captures_its_total() -> None:
    with shop(p_1=5, p_2=5) as store:
        store.handle(PLACE)
        steps = plan(PayOrder("o-1"), store.load)
    assert targets(steps) == [("order", "o-1", "PayOrder"), ("payment", "o-1", "CapturePayment")]
    assert steps[1].command == CapturePayment("o-1", "o-1", "c-1", 2500)


def test_pay_unknown_order_is_just_the_gate_step() -> None:
    assert targets(plan(PayOrder("o-9"), MemoryStore().load)) == [("order", "o-9", "PayOrder")]


def test_ship_order_ships_each_reservation_after_the_order() -> None:
    with shop(p_1=5, p_2=5) as store:
        store.handle(PLACE)
        steps = plan(ShipOrder("o-1"), store.load)
    assert targets(steps) == [
        ("order", "o-1", "ShipOrder"),
        ("stock", "p-1", "ShipStock"),
        ("stock", "p-2", "ShipStock"),
    ]


def test_cancel_releases_stock_and_refunds_only_a_paid_order() -> None:
    cancel = CancelOrder("o-1", "too slow")
    with shop(p_1=5, p_2=5) as store:
        store.handle(PLACE)
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
    with shop(p_1=5, p_2=5) as store:
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


def test_insufficient_stock_on_a_later_line_writes_nothing() -> None:
    with shop(p_1=5) as store:
        with pytest.raises(InsufficientStock, match="'p-2'"):
            store.handle(PLACE)
        assert store.event_types() == []  # p-1's reservation was decided, never written
        assert store.load("stock", "p-1").available == 5
        assert not store.load("order", "o-1").exists


def test_a_duplicate_place_order_leaves_the_original_reservations_alone() -> None:
    with shop(p_1=5, p_2=5) as store:
        store.handle(PLACE)
        store.clear()
        with pytest.raises(OrderAlreadyPlaced):
            store.handle(PLACE)
        assert store.event_types() == []
        assert store.load("stock", "p-1").reserved == 2


def test_cancelling_a_paid_order_releases_and_refunds() -> None:
    with shop(p_1=5, p_2=5) as store:
        store.handle(PLACE)
        store.handle(PayOrder("o-1"))
        store.clear()
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
    with shop(p_1=5, p_2=5) as store:
        store.handle(PLACE)
        store.handle(CancelOrder("o-1", "x"))
        store.clear()
        with pytest.raises(OrderIsCancelled):
            store.handle(PayOrder("o-1"))
        assert store.event_types() == []


def test_the_in_memory_store_keeps_all_steps_or_none_like_the_handler() -> None:
    """The fake the contract scenarios run on (tests/unit/hindsight/contracts) behaves as the
    product does: a refused later step leaves no earlier step's events behind."""
    memory = MemoryStore()
    memory.handle(ReceiveStock("p-1", 5))
    memory.log.clear()
    with pytest.raises(InsufficientStock):
        memory.handle(PLACE)
    assert memory.event_types() == [] and memory.load("stock", "p-1").reserved == 0
    assert ReleaseStock("p-1", "o-1").order_id == "o-1"  # still a command in its own right


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


def assert_consistent(store: Shop, received: dict[str, int]) -> None:
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


@settings(max_examples=40, deadline=None)
@for_all(shop_histories())
def test_stock_reservations_and_payments_always_match_the_orders(history: list[Command]) -> None:
    """Through the product's own command handler and store, whatever the interleaving."""
    received = dict.fromkeys(PRODUCTS, 0)
    with shop() as store:
        for command in history:
            try:
                store.handle(command)
            except DomainError:
                pass
            else:
                if isinstance(command, ReceiveStock):
                    received[command.product_id] += command.quantity
            assert_consistent(store, received)
