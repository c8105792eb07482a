"""The command handler: flows append atomically, snapshots load like replays, batches too."""

from __future__ import annotations

from pathlib import Path

import pytest

from commerce.inventory import InsufficientStock
from entrypoints import bootstrap
from entrypoints.workload import run_direct
from hindsight.commands import CommandHandler
from hindsight.settings import Settings


def handler(tmp_path: Path, snapshot_every: int = 100) -> CommandHandler:
    return bootstrap.command_handler(Settings(home=tmp_path, snapshot_every=snapshot_every))


def test_a_refused_step_writes_nothing_of_the_flow(tmp_path: Path) -> None:
    h = handler(tmp_path)
    for pid in ("p1", "p2"):
        h.execute_json(
            "CreateProduct",
            {"product_id": pid, "name": "Pen", "category": "office", "price_cents": 300},
        )
    h.execute_json("ReceiveStock", {"product_id": "p1", "quantity": 5})
    h.execute_json("ReceiveStock", {"product_id": "p2", "quantity": 1})
    before = h.store.last_position()
    with pytest.raises(InsufficientStock):
        h.execute_json(
            "PlaceOrder",
            {
                "order_id": "o1",
                "customer_id": "c1",
                "lines": [
                    {"product_id": "p1", "quantity": 2, "unit_price_cents": 300},
                    {"product_id": "p2", "quantity": 3, "unit_price_cents": 300},
                ],
            },
        )
    assert h.store.last_position() == before  # p1's reservation was not written either
    assert h.state("stock", "p1")[0]["reservations"] == {}


def test_a_no_op_command_succeeds_and_writes_nothing(tmp_path: Path) -> None:
    h = handler(tmp_path)
    h.execute_json(
        "RegisterCustomer",
        {
            "customer_id": "c1",
            "name": "Ada",
            "email": "a@b.io",
            "street": "1 Main",
            "city": "Lyon",
            "country": "FR",
        },
    )
    h.execute_json("ForgetCustomer", {"customer_id": "c1"})
    again = h.execute_json("ForgetCustomer", {"customer_id": "c1"})
    assert again.events == [] and again.version == 2
    state, _ = h.state("customer", "c1")
    assert state["forgotten"] and state["name"] is None and state["email"] is None


def test_loads_from_snapshots_equal_full_replays(tmp_path: Path) -> None:
    h = handler(tmp_path, snapshot_every=3)
    run_direct(h, h.domain.workload(5, 6000), 6000, batch_size=50)
    streams = {(e.aggregate_type, e.aggregate_id) for e in h.store.read_all(0, 10**6)}
    snapshotted = 0
    for t, i in sorted(streams):
        aggregate = h.domain.aggregates[t]
        with_snap = h.repo.load(aggregate, i)
        replay = h.repo.load(aggregate, i, use_snapshots=False)
        assert with_snap.state == replay.state and with_snap.version == replay.version
        snapshotted += with_snap.from_snapshot > 0
    assert snapshotted > 0


def test_a_warm_batch_decides_again_when_another_writer_moved_a_stream(tmp_path: Path) -> None:
    """The bulk loader's state cache is only a cache: a stream written meanwhile by someone
    else (here the same handler, outside the batches) is read again, not overwritten."""
    from hindsight.commands import StateCache

    h = handler(tmp_path)
    parse = h.domain.parse_command
    warm = StateCache()
    pen = {"product_id": "p1", "name": "Pen", "category": "office", "price_cents": 300}
    h.execute_batch([parse("CreateProduct", pen)], warm=warm)
    h.execute_batch([parse("ReceiveStock", {"product_id": "p1", "quantity": 5})], warm=warm)
    h.execute_json("ReceiveStock", {"product_id": "p1", "quantity": 7})  # not through `warm`
    h.execute_batch([parse("ReceiveStock", {"product_id": "p1", "quantity": 1})], warm=warm)
    state, version = h.state("stock", "p1")
    assert (state["on_hand"], version) == (13, 3)


def test_the_state_cache_keeps_only_the_most_recent_streams(tmp_path: Path) -> None:
    from hindsight.commands import StateCache

    h = handler(tmp_path)
    warm = StateCache(capacity=2)
    for pid in ("p1", "p2", "p3"):
        product = {"product_id": pid, "name": "Pen", "category": "office", "price_cents": 300}
        h.execute_batch([h.domain.parse_command("CreateProduct", product)], warm=warm)
    assert warm.get(("product", "p1")) is None
    assert [warm.get(("product", p)) is not None for p in ("p2", "p3")] == [True, True]
