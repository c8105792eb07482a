"""Histories for the projection tests: hand-made envelopes and generated commerce traffic."""

from __future__ import annotations

import random
import tempfile
from collections import defaultdict, deque
from collections.abc import Sequence
from functools import cache
from pathlib import Path
from typing import Any

from entrypoints import bootstrap
from entrypoints.workload import run_direct
from hindsight.settings import Settings
from pipelines.model import Event, Output, Projection
from pipelines.runtime import INTERNAL, KeyState, route_all, step

_AGGREGATE = {  # event type -> (aggregate type, data field holding its id)
    "CustomerRegistered": ("customer", "customer_id"),
    "CustomerAddressChanged": ("customer", "customer_id"),
    "CustomerForgotten": ("customer", "customer_id"),
    "ProductCreated": ("product", "product_id"),
    "ProductPriceChanged": ("product", "product_id"),
    "StockReceived": ("stock", "product_id"),
    "StockReserved": ("stock", "product_id"),
    "StockReleased": ("stock", "product_id"),
    "StockShipped": ("stock", "product_id"),
    "OrderPlaced": ("order", "order_id"),
    "OrderPaid": ("order", "order_id"),
    "OrderShipped": ("order", "order_id"),
    "OrderDelivered": ("order", "order_id"),
    "OrderCancelled": ("order", "order_id"),
    "PaymentCaptured": ("payment", "payment_id"),
    "PaymentRefunded": ("payment", "payment_id"),
}


class Log:
    """Builds envelopes as the store would: gapless versions per stream, growing positions."""

    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []
        self._versions: dict[str, int] = defaultdict(int)

    def add(self, event_type: str, **data: Any) -> dict[str, Any]:
        aggregate_type, id_field = _AGGREGATE[event_type]
        aggregate_id = str(data[id_field])
        stream = f"{aggregate_type}/{aggregate_id}"
        self._versions[stream] += 1
        position = len(self.events) + 1
        event = {
            "event_id": f"e-{position}",
            "event_type": event_type,
            "schema_version": 2 if event_type == "ProductCreated" else 1,
            "aggregate_type": aggregate_type,
            "aggregate_id": aggregate_id,
            "version": self._versions[stream],
            "position": position,
            "occurred_at": f"2025-01-01T00:{position // 60:02d}:{position % 60:02d}Z",
            "recorded_at": f"2025-01-01T00:{position // 60:02d}:{position % 60:02d}Z",
            "correlation_id": None,
            "causation_id": None,
            "data": data,
        }
        self.events.append(event)
        return event


@cache
def generated_history(events: int = 3000, seed: int = 11) -> tuple[dict[str, Any], ...]:
    """A realistic history (every branch of the workload), through the real command handler."""
    with tempfile.TemporaryDirectory() as tmp:
        handler = bootstrap.command_handler(Settings(home=Path(tmp)))
        run_direct(handler, handler.domain.workload(seed, events), events, batch_size=100)
        return tuple(e.to_dict() for e in handler.store.read_all(0, 10**6))


def stream(event: Event) -> str:
    return f"{event['aggregate_type']}/{event['aggregate_id']}"


def interleave(events: Sequence[Event], rnd: random.Random, dup_rate: float) -> list[Event]:
    """Streams merged in a random order, each stream's own order kept, and some events
    delivered again at a random later point (at-least-once redelivery)."""
    queues: dict[str, deque[Event]] = defaultdict(deque)
    for e in events:
        queues[stream(e)].append(e)
    names = list(queues)
    out: list[Event] = []
    while names:
        i = rnd.randrange(len(names))
        q = queues[names[i]]
        out.append(q.popleft())
        if not q:
            names[i] = names[-1]
            names.pop()
    for i in sorted(rnd.sample(range(len(out)), int(len(out) * dup_rate)), reverse=True):
        out.insert(rnd.randint(i + 1, len(out)), out[i])
    return out


def run_delayed(
    projections: Sequence[Projection], events: Sequence[Event], rnd: random.Random
) -> dict[tuple[str, str, str], Output]:
    """Like the Flink job: internal events reach the next stage after an arbitrary delay,
    in any order, while source events keep flowing. Returns the latest output per key."""
    by_name = {p.name: p for p in projections}
    states: dict[tuple[str, str], KeyState] = {}
    latest: dict[tuple[str, str, str], Output] = {}
    pending: list[Event] = []
    source = iter(events)
    exhausted = False
    while not exhausted or pending:
        if pending and (exhausted or rnd.random() < 0.4):
            current = pending.pop(rnd.randrange(len(pending)))
        else:
            current = next(source, None)
            if current is None:
                exhausted = True
                continue
        for name, key, routed in route_all(projections, current):
            states[(name, key)], outputs = step(by_name[name], states.get((name, key)), key, routed)
            for out in outputs:
                if out.sink == INTERNAL:
                    pending.append(out.body)
                elif (held := latest.get(k := (out.sink, out.target, out.id))) is None or (
                    out.version > held.version
                ):
                    latest[k] = out
    return latest
