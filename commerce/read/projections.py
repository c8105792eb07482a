"""The commerce read models as projections: search documents and graph changes.

Three stages, because a document that sums over other aggregates (a product's revenue, a
customer's lifetime value) must not deduplicate those aggregates' events itself: that needs
one `seen` entry per order, forever, in state pickled on every event. Instead the order key,
whose state is small, deduplicates order, payment and shipment events and emits each fact
exactly once as an internal event (see pipelines.runtime):

    stage 0  order_fanout  (order_id)   OrderPlaced, PaymentCaptured/Refunded, StockShipped
               -> LineNeedsName -> product_names   -> LineSold -> products
               -> OrderCounted, ValueMoved -> customers
    stage 1  product_names (product_id) ProductCreated + LineNeedsName  -> LineNamed -> orders
             products      (product_id) catalog + stock events + LineSold
             customers     (customer_id) customer events + OrderCounted + ValueMoved
    stage 2  orders        (order_id)   order events + LineNamed

Every key's `seen` then holds only its own streams: an order its order, payment and the
stock streams of its lines; a product its product and stock streams; a customer its own.
Joins complete whichever side arrives second, sums and maxima commute, and each stream's own
events arrive in order, so every final document is the same for any interleaving.

A document is rendered only once its anchor event (OrderPlaced, ProductCreated,
CustomerRegistered) has been folded, so no half-empty document reaches a read model.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from functools import cache
from typing import Any

from commerce.orders import OrderStatus
from commerce.read.ports import (
    ES_CUSTOMERS,
    ES_ORDERS,
    ES_PRODUCTS,
    PG_CUSTOMER_SUMMARIES,
    PG_ORDER_LIST,
)
from commerce.upcasters import upcast
from hindsight.contracts.pii import allowed_fields
from hindsight.events import parse_time
from pipelines import embedding
from pipelines.model import Event, Output, Projection
from pipelines.runtime import internal, stages_of

ES, NEO4J, PG = "elasticsearch", "neo4j", "postgres"
FANOUT, NAMES, ORDERS, PRODUCTS, CUSTOMERS = (
    "order_fanout",
    "product_names",
    "orders",
    "products",
    "customers",
)
# Neo4j graph pattern names (pipelines.read_models.GRAPH_PATTERNS)
G_CUSTOMER, G_ORDER, G_PRODUCT = "customer", "order", "product"


class _Compact:
    """Pickles a frozen slots dataclass as a constructor call: Flink pickles every key's state
    on every fold, and the default (per-field setattr) is slower and larger."""

    __slots__ = ()

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), tuple(getattr(self, f) for f in self.__slots__))  # type: ignore[attr-defined]


Emit = tuple[tuple[str, str, str, dict[str, Any]], ...]  # (projection, key, event_type, data)


def _render_emits(emit: Emit, version: int) -> list[Output]:
    return [internal(target, key, version, et, data) for target, key, et, data in emit]


def _by(field_name: str) -> Any:
    """A route sending an event to the key held in one of its data fields."""

    def route(event: Event) -> list[tuple[str, Event]]:
        return [(str(event["data"][field_name]), event)]

    return route


@cache
def _disclosed(domain: str, port: str, name: str) -> bool:
    """Whether the domain's contract lets field `name` reach `port` (deny by default)."""
    return name in allowed_fields(domain, port)


def _shown(domain: str, port: str, name: str, value: Any) -> Any:
    return value if _disclosed(domain, port, name) else None


# --------------------------------------------------------------------- stage 0: order fanout


@dataclass(frozen=True, slots=True)
class Fanout(_Compact):
    """Per order: the half of each (product, order) sale join still waiting for the other."""

    prices: dict[str, int] = field(default_factory=dict)  # product -> unit price, not shipped
    shipped: dict[str, int] = field(default_factory=dict)  # product -> qty, line not seen yet
    emit: Emit = ()  # this fold's internal events; replaced by the next fold


def _fanout_fold(state: Fanout | None, key: str, event: Event) -> Fanout:
    s = state or Fanout()
    d, et = event["data"], event["event_type"]
    emit: list[tuple[str, str, str, dict[str, Any]]] = []
    prices, shipped = s.prices, s.shipped
    if et == "OrderPlaced":
        prices, shipped = dict(prices), dict(shipped)
        for line in d["lines"]:
            pid, price = line["product_id"], line["unit_price_cents"]
            emit.append((NAMES, pid, "LineNeedsName", {"order_id": key, "product_id": pid}))
            if pid in shipped:
                emit.append(_sold(pid, key, shipped.pop(pid), price))
            else:
                prices[pid] = price
        placed = {"customer_id": d["customer_id"], "order_id": key, "at": event["occurred_at"]}
        emit.append((CUSTOMERS, d["customer_id"], "OrderCounted", placed))
    elif et == "StockShipped":
        pid, qty = d["product_id"], d["quantity"]
        prices, shipped = dict(prices), dict(shipped)
        if pid in prices:
            emit.append(_sold(pid, key, qty, prices.pop(pid)))
        else:
            shipped[pid] = qty
    elif et in ("PaymentCaptured", "PaymentRefunded"):
        sign = 1 if et == "PaymentCaptured" else -1
        moved = {"customer_id": d["customer_id"], "amount": sign * d["amount_cents"]}
        emit.append((CUSTOMERS, d["customer_id"], "ValueMoved", moved))
    return Fanout(prices, shipped, tuple(emit))


def _sold(pid: str, order_id: str, qty: int, price: int) -> tuple[str, str, str, dict[str, Any]]:
    data = {"product_id": pid, "order_id": order_id, "quantity": qty, "unit_price": price}
    return (PRODUCTS, pid, "LineSold", data)


ORDER_FANOUT = Projection(
    name=FANOUT,
    route=_by("order_id"),
    fold=_fanout_fold,
    render=lambda _key, s, version: _render_emits(s.emit, version),
    event_types=frozenset({"OrderPlaced", "PaymentCaptured", "PaymentRefunded", "StockShipped"}),
)

# --------------------------------------------------------------------- stage 1: product names


@dataclass(frozen=True, slots=True)
class Names(_Compact):
    """Per product: its name, and the orders that asked for it before it was known."""

    name: str | None = None
    waiting: tuple[str, ...] = ()  # emptied as soon as the name is known
    emit: Emit = ()


def _names_fold(state: Names | None, key: str, event: Event) -> Names:
    s = state or Names()
    if event["event_type"] == "ProductCreated":
        name = event["data"]["name"]
        return Names(name, (), tuple(_named(o, key, name) for o in s.waiting))
    order_id = event["data"]["order_id"]
    if s.name is None:
        return Names(None, (*s.waiting, order_id))
    return Names(s.name, (), (_named(order_id, key, s.name),))


def _named(order_id: str, pid: str, name: str) -> tuple[str, str, str, dict[str, Any]]:
    return (ORDERS, order_id, "LineNamed", {"order_id": order_id, "product_id": pid, "name": name})


PRODUCT_NAMES = Projection(
    name=NAMES,
    route=_by("product_id"),
    fold=_names_fold,
    render=lambda _key, s, version: _render_emits(s.emit, version),
    event_types=frozenset({"ProductCreated", "LineNeedsName"}),
)

# --------------------------------------------------------------------- stage 1: products

_STOCK_DELTAS = {  # event -> (on hand, reserved) multipliers of its quantity
    "StockReceived": (1, 0),
    "StockReserved": (0, 1),
    "StockReleased": (0, -1),
    "StockShipped": (-1, -1),
}


@dataclass(frozen=True, slots=True)
class Product(_Compact):
    created: bool = False
    name: str | None = None
    category: str | None = None
    price: int | None = None
    units_sold: int = 0
    revenue: int = 0
    on_hand: int = 0
    reserved: int = 0


def _product_fold(state: Product | None, key: str, event: Event) -> Product:
    s = state or Product()
    et, d = event["event_type"], event["data"]
    if et in _STOCK_DELTAS:  # the most frequent events: built directly, not via replace()
        on, res = _STOCK_DELTAS[et]
        q = d["quantity"]
        return Product(
            s.created, s.name, s.category, s.price, s.units_sold, s.revenue,
            s.on_hand + on * q, s.reserved + res * q,
        )  # fmt: skip
    if et == "LineSold":
        q = d["quantity"]
        return replace(s, units_sold=s.units_sold + q, revenue=s.revenue + q * d["unit_price"])
    if et == "ProductCreated":
        _, d = upcast(et, int(event.get("schema_version", 2)), d)  # the log may hold v1
        return replace(
            s, created=True, name=d["name"], category=d["category"], price=d["price_cents"]
        )
    if et == "ProductPriceChanged":
        return replace(s, price=d["price_cents"])
    return s


def _product_render(key: str, s: Product, version: int) -> list[Output]:
    if not s.created:
        return []
    doc = {
        "product_id": key,
        "name": s.name,
        "category": s.category,
        "price": s.price,
        "units_sold": s.units_sold,
        "revenue": s.revenue,
        "stock_on_hand": s.on_hand,
        "stock_reserved": s.reserved,
        "version": version,
    }
    vector = embedding.embed(s.name) if s.name else None
    if vector is not None:
        doc["embedding"] = vector
    graph = {"id": key, "name": s.name, "category": s.category}
    return [
        Output(ES, ES_PRODUCTS, key, version, doc),
        Output(NEO4J, G_PRODUCT, key, version, graph),
    ]


PRODUCTS_PROJECTION = Projection(
    name=PRODUCTS,
    route=_by("product_id"),
    fold=_product_fold,
    render=_product_render,
    event_types=frozenset({"ProductCreated", "ProductPriceChanged", "LineSold", *_STOCK_DELTAS}),
    version=2,  # 2: documents carry the name's embedding (pipelines.embedding.MODEL_ID)
)

# --------------------------------------------------------------------- stage 1: customers


@dataclass(frozen=True, slots=True)
class Customer(_Compact):
    """Only what a read model may show: email and street are never read into state."""

    registered: bool = False
    name: str | None = None
    city: str | None = None
    forgotten: bool = False
    order_count: int = 0
    lifetime_value: int = 0
    last_order_at: str | None = None


def _customer_fold(state: Customer | None, key: str, event: Event) -> Customer:
    s = state or Customer()
    et, d = event["event_type"], event["data"]
    if et == "OrderCounted":
        return replace(
            s, order_count=s.order_count + 1, last_order_at=_later(s.last_order_at, d["at"])
        )
    if et == "ValueMoved":
        return replace(s, lifetime_value=s.lifetime_value + d["amount"])
    if et == "CustomerRegistered":
        return replace(s, registered=True, name=d.get("name"), city=d.get("city"))
    if et == "CustomerAddressChanged":
        return replace(s, city=d.get("city"))
    if et == "CustomerForgotten":
        return replace(s, name=None, forgotten=True)
    return s


def _later(held: str | None, candidate: str) -> str:
    """The later of two ISO instants; equal instants keep the larger string, so the result
    does not depend on which came first."""
    if held is None:
        return candidate
    a, b = parse_time(held), parse_time(candidate)
    return candidate if (b, candidate) > (a, held) else held


def _customer_render(key: str, s: Customer, version: int) -> list[Output]:
    if not s.registered:
        return []
    doc = {
        "customer_id": key,
        "name": _shown("customers", ES, "name", s.name),
        "city": _shown("customers", ES, "city", s.city),
        "order_count": s.order_count,
        "lifetime_value": s.lifetime_value,
        "last_order_at": s.last_order_at,
        "forgotten": s.forgotten,
        "version": version,
    }
    graph = {
        "id": key,
        "city": _shown("customers", NEO4J, "city", s.city),
        "lifetime_value": s.lifetime_value,
        "order_count": s.order_count,
    }
    row = {
        "name": _shown("customers", PG, "name", s.name),
        "city": _shown("customers", PG, "city", s.city),
        "order_count": s.order_count,
        "lifetime_value": s.lifetime_value,
        "last_order_at": s.last_order_at,
        "forgotten": s.forgotten,
    }
    return [
        Output(ES, ES_CUSTOMERS, key, version, doc),
        Output(NEO4J, G_CUSTOMER, key, version, graph),
        Output(PG, PG_CUSTOMER_SUMMARIES, key, version, row),
    ]


CUSTOMERS_PROJECTION = Projection(
    name=CUSTOMERS,
    route=_by("customer_id"),
    fold=_customer_fold,
    render=_customer_render,
    event_types=frozenset(
        {
            "CustomerRegistered",
            "CustomerAddressChanged",
            "CustomerForgotten",
            "OrderCounted",
            "ValueMoved",
        }
    ),
    version=2,  # 2: a row in the customer_summaries table too
)

# --------------------------------------------------------------------- stage 2: orders

_STATUS = {
    "OrderPlaced": OrderStatus.PLACED.value,
    "OrderPaid": OrderStatus.PAID.value,
    "OrderShipped": OrderStatus.SHIPPED.value,
    "OrderDelivered": OrderStatus.DELIVERED.value,
    "OrderCancelled": OrderStatus.CANCELLED.value,
}


@dataclass(frozen=True, slots=True)
class Order(_Compact):
    status: str | None = None  # None until OrderPlaced is folded
    customer_id: str | None = None
    total: int = 0
    lines: tuple[tuple[str, int, int], ...] = ()  # (product, quantity, unit price)
    placed_at: str | None = None
    timeline: tuple[tuple[str, str], ...] = ()  # (status, at)
    names: dict[str, str] = field(default_factory=dict)  # product -> name (LineNamed)


def _order_fold(state: Order | None, key: str, event: Event) -> Order:
    s = state or Order()
    et, d = event["event_type"], event["data"]
    if et == "LineNamed":
        return replace(s, names={**s.names, d["product_id"]: d["name"]})
    status, at = _STATUS[et], event["occurred_at"]
    s = replace(s, status=status, timeline=(*s.timeline, (status, at)))
    if et == "OrderPlaced":
        lines = tuple((x["product_id"], x["quantity"], x["unit_price_cents"]) for x in d["lines"])
        s = replace(
            s, customer_id=d["customer_id"], total=d["total_cents"], lines=lines, placed_at=at
        )
    return s


def _order_render(key: str, s: Order, version: int) -> list[Output]:
    if s.placed_at is None:
        return []
    doc = {
        "order_id": key,
        "customer_id": s.customer_id,
        "status": s.status,
        "total": s.total,
        "lines": [
            {"product_id": p, "name": s.names.get(p), "quantity": q, "unit_price": u}
            for p, q, u in s.lines
        ],
        "placed_at": s.placed_at,
        "timeline": [{"status": st, "at": at} for st, at in s.timeline],
        "version": version,
    }
    graph = {
        "id": key,
        "customer_id": s.customer_id,
        "status": s.status,
        "total": s.total,
        "lines": [{"product_id": p, "quantity": q, "unit_price": u} for p, q, u in s.lines],
    }
    row = {
        "customer_id": s.customer_id,
        "status": s.status,
        "total": s.total,
        "line_count": len(s.lines),
        "placed_at": s.placed_at,
        "updated_at": s.timeline[-1][1] if s.timeline else s.placed_at,
    }
    return [
        Output(ES, ES_ORDERS, key, version, doc),
        Output(NEO4J, G_ORDER, key, version, graph),
        Output(PG, PG_ORDER_LIST, key, version, row),
    ]


ORDERS_PROJECTION = Projection(
    name=ORDERS,
    route=_by("order_id"),
    fold=_order_fold,
    render=_order_render,
    event_types=frozenset({*_STATUS, "LineNamed"}),
    version=2,  # 2: a row in the order_list table too
)

# --------------------------------------------------------------------- wiring

# emitter -> the projections its internal events feed (each edge: stage i -> stage i + 1)
FEEDS: dict[str, tuple[str, ...]] = {FANOUT: (NAMES, PRODUCTS, CUSTOMERS), NAMES: (ORDERS,)}
PROJECTIONS: list[Projection] = [
    ORDER_FANOUT,
    PRODUCT_NAMES,
    PRODUCTS_PROJECTION,
    CUSTOMERS_PROJECTION,
    ORDERS_PROJECTION,
]
STAGES: list[list[Projection]] = stages_of(PROJECTIONS, FEEDS)
