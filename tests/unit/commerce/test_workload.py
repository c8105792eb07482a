"""The workload generator is deterministic and produces only commands the domain accepts."""

from __future__ import annotations

from collections import Counter
from itertools import islice
from pathlib import Path

from commerce.domain import COMMERCE
from commerce.workload import commands
from entrypoints import bootstrap
from entrypoints.workload import run_direct
from hindsight.settings import Settings


def test_same_seed_same_traffic() -> None:
    assert list(islice(commands(7, scale=2000), 800)) == list(islice(commands(7, scale=2000), 800))
    assert list(islice(commands(7, scale=2000), 800)) != list(islice(commands(8, scale=2000), 800))


def test_every_generated_command_is_accepted_and_covers_the_lifecycle(tmp_path: Path) -> None:
    handler = bootstrap.command_handler(Settings(home=tmp_path))
    stats = run_direct(handler, COMMERCE.workload(3, 8_000), 8_000, batch_size=1)
    assert stats.events >= 8_000
    kinds = Counter(e.event_type for e in handler.store.read_all(0, 10**6))
    for event_type in (
        "CustomerRegistered",
        "ProductCreated",
        "StockReceived",
        "OrderPlaced",
        "OrderPaid",
        "OrderShipped",
        "OrderDelivered",
        "OrderCancelled",
        "PaymentCaptured",
        "PaymentRefunded",
        "ProductPriceChanged",
        "CustomerAddressChanged",
        "CustomerForgotten",
        "StockReserved",
        "StockReleased",
        "StockShipped",
    ):
        assert kinds[event_type] > 0, event_type
