"""Deterministic, realistic commerce traffic: the same seed gives the same commands.

A shadow of the shop (stock available, each order's status) is kept so that every command
generated is one the domain accepts: the workload exercises the happy paths and the
lifecycle branches (cancellations before and after payment, price changes, address changes,
GDPR forgets) without tripping invariants, so a run with errors means a bug, not noise.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

FIRST = [
    "Ada",
    "Grace",
    "Alan",
    "Edsger",
    "Barbara",
    "Donald",
    "Margaret",
    "Ken",
    "Radia",
    "Leslie",
    "Frances",
    "John",
    "Katherine",
    "Tim",
    "Hedy",
    "Linus",
    "Sophie",
    "Niklaus",
]
LAST = [
    "Lovelace",
    "Hopper",
    "Turing",
    "Dijkstra",
    "Liskov",
    "Knuth",
    "Hamilton",
    "Thompson",
    "Perlman",
    "Lamport",
    "Allen",
    "Backus",
    "Johnson",
    "Berners-Lee",
    "Lamarr",
    "Wilson",
]
CITIES = [
    ("Lyon", "FR"),
    ("Paris", "FR"),
    ("Berlin", "DE"),
    ("Hamburg", "DE"),
    ("Madrid", "ES"),
    ("Lisbon", "PT"),
    ("Milan", "IT"),
    ("Vienna", "AT"),
    ("Zurich", "CH"),
    ("Amsterdam", "NL"),
    ("Dublin", "IE"),
    ("Copenhagen", "DK"),
]
STREETS = ["Main St", "Rue de la Paix", "Hauptstrasse", "Gran Via", "Via Roma", "Kings Road"]
CATEGORIES = {
    "kitchen": ["kettle", "chef knife", "cast iron pan", "espresso cup", "cutting board"],
    "garden": ["watering can", "pruning shears", "hammock", "seed tray", "garden hose"],
    "books": ["field guide", "cookbook", "atlas", "notebook", "poetry collection"],
    "games": ["chess set", "puzzle", "card game", "board game", "dice set"],
    "outdoor": ["tent", "headlamp", "water bottle", "backpack", "trail map"],
    "office": ["desk lamp", "fountain pen", "stapler", "monitor stand", "letter tray"],
}
ADJECTIVES = ["classic", "compact", "deluxe", "handmade", "recycled", "travel", "vintage", "blue"]


@dataclass
class _Order:
    order_id: str
    lines: list[tuple[str, int, int]]
    status: str = "placed"


@dataclass
class _Shop:
    products: dict[str, int] = field(default_factory=dict)  # product -> price_cents
    available: dict[str, int] = field(default_factory=dict)  # on hand minus reserved
    customers: list[str] = field(default_factory=list)
    forgotten: set[str] = field(default_factory=set)
    # customers not forgotten, in registration order: kept as they change, because
    # rebuilding it for every order made a 1M-event workload quadratic
    active: list[str] = field(default_factory=list)
    open_orders: dict[str, _Order] = field(default_factory=dict)
    # their ids in placement order, to pick one by index without copying the dict each time
    open_ids: list[str] = field(default_factory=list)


Command = tuple[str, dict[str, Any]]


# Long on purpose: one generator whose closures share the shop's state and one random stream,
# so a seed always yields the same traffic; split, the draws would depend on call order.
def commands(seed: int = 42, *, scale: int = 10_000) -> Iterator[Command]:
    """An endless stream of valid commands; `scale` (≈ events wanted) sizes the catalogue.
    Ids carry the seed (but the default's, 42, whose ids the tour and the tests know), so
    traffic of another seed goes into a store beside any seed's before it."""
    rng = random.Random(seed)
    tag = "" if seed == 42 else f"s{seed}-"
    shop = _Shop()
    n_products = max(20, min(2_000, scale // 250))
    n_customers = max(20, min(50_000, scale // 40))
    serial = 0

    def new_customer() -> Command:
        nonlocal serial
        serial += 1
        cid = f"cust-{tag}{serial:07d}"
        first, last = rng.choice(FIRST), rng.choice(LAST)
        city, country = rng.choice(CITIES)
        shop.customers.append(cid)
        shop.active.append(cid)
        return "RegisterCustomer", {
            "customer_id": cid,
            "name": f"{first} {last}",
            "email": f"{first}.{last}.{tag}{serial}@example.com".lower().replace(" ", ""),
            "street": f"{rng.randint(1, 200)} {rng.choice(STREETS)}",
            "city": city,
            "country": country,
        }

    for i in range(n_products):
        category = rng.choice(sorted(CATEGORIES))
        pid = f"prod-{tag}{i:05d}"
        price = rng.randint(3, 300) * 100 + rng.choice([0, 50, 99])
        shop.products[pid] = price
        shop.available[pid] = 0
        yield (
            "CreateProduct",
            {
                "product_id": pid,
                "name": f"{rng.choice(ADJECTIVES)} {rng.choice(CATEGORIES[category])}",
                "category": category,
                "price_cents": price,
                "description": f"A {category} item, number {i}.",
            },
        )
        qty = rng.randint(50, 500)
        shop.available[pid] += qty
        yield "ReceiveStock", {"product_id": pid, "quantity": qty}
    for _ in range(n_customers):
        yield new_customer()
    catalogue = sorted(shop.products)  # products are only created above; prices change

    order_serial = 0
    while True:
        roll = rng.random()
        if roll < 0.36 or not shop.open_orders:
            active = shop.active
            lines = []
            for pid in rng.sample(catalogue, k=rng.randint(1, 4)):
                qty = rng.randint(1, 3)
                if shop.available[pid] < qty:
                    restock = rng.randint(100, 400)
                    shop.available[pid] += restock
                    yield "ReceiveStock", {"product_id": pid, "quantity": restock}
                shop.available[pid] -= qty
                lines.append((pid, qty, shop.products[pid]))
            order_serial += 1
            oid = f"order-{tag}{order_serial:08d}"
            shop.open_orders[oid] = _Order(oid, lines)
            shop.open_ids.append(oid)
            yield (
                "PlaceOrder",
                {
                    "order_id": oid,
                    "customer_id": rng.choice(active),
                    "lines": [
                        {"product_id": p, "quantity": q, "unit_price_cents": u} for p, q, u in lines
                    ],
                },
            )
        elif roll < 0.90:
            # the same draw as rng.choice(list(shop.open_orders)), without the copy
            picked = rng.choice(range(len(shop.open_ids)))
            oid = shop.open_ids[picked]
            order = shop.open_orders[oid]
            if order.status == "placed":
                if rng.random() < 0.88:
                    order.status = "paid"
                    yield "PayOrder", {"order_id": oid}
                else:
                    del shop.open_ids[picked]
                    yield from _cancel(shop, order, "customer changed their mind")
            elif order.status == "paid":
                if rng.random() < 0.96:
                    order.status = "shipped"
                    yield (
                        "ShipOrder",
                        {"order_id": oid, "tracking_number": f"TRK{rng.randint(10**8, 10**9)}"},
                    )
                else:
                    del shop.open_ids[picked]
                    yield from _cancel(shop, order, "out of delivery area")
            else:
                del shop.open_orders[oid]
                del shop.open_ids[picked]
                yield "DeliverOrder", {"order_id": oid}
        elif roll < 0.93:
            pid = rng.choice(catalogue)
            price = max(100, shop.products[pid] + rng.choice([-500, -100, 100, 250, 1000]))
            if price != shop.products[pid]:
                shop.products[pid] = price
                yield "ChangePrice", {"product_id": pid, "price_cents": price}
        elif roll < 0.96:
            yield new_customer()
        elif roll < 0.995:
            active = shop.active
            city, country = rng.choice(CITIES)
            yield (
                "ChangeCustomerAddress",
                {
                    "customer_id": rng.choice(active),
                    "street": f"{rng.randint(1, 200)} {rng.choice(STREETS)}",
                    "city": city,
                    "country": country,
                },
            )
        else:
            active = shop.active
            if len(active) > 10:
                cid = rng.choice(active)
                shop.forgotten.add(cid)
                shop.active.remove(cid)
                yield "ForgetCustomer", {"customer_id": cid}


def _cancel(shop: _Shop, order: _Order, reason: str) -> Iterator[Command]:
    for pid, qty, _ in order.lines:
        shop.available[pid] += qty
    del shop.open_orders[order.order_id]
    yield "CancelOrder", {"order_id": order.order_id, "reason": reason}
