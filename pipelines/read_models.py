"""The commerce read models as data, so the Elasticsearch and Neo4j sinks stay generic.

A sink knows how to batch, retry and guard versions; what an index looks like or which graph
a change touches lives here, next to the projections that render the bodies. Adding a read
model is adding an entry here (and its port in `hindsight.contracts.ports`), not a new sink.

Elasticsearch: one `IndexSpec` per alias. Mappings are explicit and `dynamic: strict`, so a
body that drifts from the contract is rejected at the door (and dead-lettered by the sink)
instead of silently growing the mapping. Money is integer cents, hence `long`.

Neo4j: one `GraphPattern` per Output target, with ONE statement run as `UNWIND $rows AS row`
per batch. Every statement MERGEs its primary node and continues only where that node's
`version` is null (never written by its own pattern, e.g. a Product merged by an order) or
older than the row, so replays and duplicates are no-ops. Labels are written bare in the
templates and prefixed on render, so tests can run the real statements on private labels.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from hindsight.contracts.ports import (
    ES_CUSTOMERS,
    ES_ORDERS,
    ES_PRODUCTS,
    NEO4J_LABELS,
)
from pipelines.model import Output

# --------------------------------------------------------------------------- Elasticsearch

_KEYWORD: dict[str, Any] = {"type": "keyword"}
_LONG: dict[str, Any] = {"type": "long"}
_DATE: dict[str, Any] = {"type": "date"}
# a name is searched as words and filtered/sorted/aggregated exactly
_NAME: dict[str, Any] = {
    "type": "text",
    "fields": {"keyword": {"type": "keyword", "ignore_above": 256}},
}


@dataclass(frozen=True)
class IndexSpec:
    """One search read model: the alias queries use and the index created behind it."""

    alias: str
    properties: dict[str, Any]
    shards: int = 1
    replicas: int = 0
    dynamic: str = "strict"

    def alias_name(self, prefix: str = "") -> str:
        return f"{prefix}{self.alias}"

    def index_name(self, generation: int, prefix: str = "") -> str:
        """`<prefix><alias>-<generation>`; the prefix lets tests own private copies. A plug-in
        alias is checked against its module's PORTS on load (hindsight.plugins), not here."""
        return f"{prefix}{self.alias}-{generation}"

    def create_body(self) -> dict[str, Any]:
        return {
            "settings": {
                "index": {"number_of_shards": self.shards, "number_of_replicas": self.replicas}
            },
            "mappings": {"dynamic": self.dynamic, "properties": self.properties},
        }


ORDERS = IndexSpec(
    alias=ES_ORDERS,
    shards=2,
    properties={
        "order_id": _KEYWORD,
        "customer_id": _KEYWORD,
        "status": _KEYWORD,
        "total": _LONG,
        "lines": {
            "type": "nested",
            "properties": {
                "product_id": _KEYWORD,
                "name": _NAME,
                "quantity": _LONG,
                "unit_price": _LONG,
            },
        },
        "placed_at": _DATE,
        "timeline": {"type": "nested", "properties": {"status": _KEYWORD, "at": _DATE}},
        "version": _LONG,
    },
)

CUSTOMERS = IndexSpec(
    alias=ES_CUSTOMERS,
    properties={
        "customer_id": _KEYWORD,
        "name": _NAME,
        "city": {**_KEYWORD, "fields": {"text": {"type": "text"}}},
        "order_count": _LONG,
        "lifetime_value": _LONG,
        "last_order_at": _DATE,
        "forgotten": {"type": "boolean"},
        "version": _LONG,
    },
)

PRODUCTS = IndexSpec(
    alias=ES_PRODUCTS,
    properties={
        "product_id": _KEYWORD,
        "name": _NAME,
        "category": _KEYWORD,
        "price": _LONG,
        "units_sold": _LONG,
        "revenue": _LONG,
        "stock_on_hand": _LONG,
        "stock_reserved": _LONG,
        "version": _LONG,
    },
)

INDEX_SPECS: dict[str, IndexSpec] = {s.alias: s for s in (ORDERS, CUSTOMERS, PRODUCTS)}

# --------------------------------------------------------------------------- Neo4j

_LABEL_RE = re.compile(r"(?<=:)(" + "|".join(NEO4J_LABELS) + r")\b")


def relabel(cypher: str, prefix: str) -> str:
    """Prefix every `:Label` of the platform's labels (relationship types are left alone)."""
    return _LABEL_RE.sub(lambda m: prefix + m.group(1), cypher) if prefix else cypher


class InvalidRow(ValueError):
    """An Output whose body cannot become a row of its pattern (dead-lettered, not retried)."""


def _require(body: Mapping[str, Any], key: str, *types: type) -> Any:
    value = body.get(key)
    if value is None or not isinstance(value, types) or isinstance(value, bool):
        raise InvalidRow(f"body.{key}: expected {'/'.join(t.__name__ for t in types)}")
    return value


def _optional(body: Mapping[str, Any], key: str, *types: type) -> Any:
    value = body.get(key)
    if value is not None and (not isinstance(value, types) or isinstance(value, bool)):
        raise InvalidRow(f"body.{key}: expected {'/'.join(t.__name__ for t in types)} or null")
    return value


_SCALARS = (str, int, float, bool)


def _customer_row(o: Output) -> dict[str, Any]:
    # every scalar of the body becomes a property and the node is replaced by exactly this
    # map: a field the projection stopped sending (an erased name) disappears from the graph
    props = {k: v for k, v in o.body.items() if isinstance(v, _SCALARS)}
    props.update(id=o.id, version=o.version)
    return {
        "id": o.id,
        "version": o.version,
        "city": _optional(o.body, "city", str),
        "props": props,
    }


def _order_row(o: Output) -> dict[str, Any]:
    lines = o.body.get("lines") or []
    if not isinstance(lines, list):
        raise InvalidRow("body.lines: expected list")
    rows = []
    for i, line in enumerate(lines):
        if not isinstance(line, Mapping):
            raise InvalidRow(f"body.lines[{i}]: expected object")
        try:
            rows.append(
                {
                    "product_id": str(_require(line, "product_id", str, int)),
                    "quantity": _optional(line, "quantity", int),
                    "unit_price": _optional(line, "unit_price", int),
                }
            )
        except InvalidRow as err:
            raise InvalidRow(f"body.lines[{i}].{str(err).removeprefix('body.')}") from None
    return {
        "id": o.id,
        "version": o.version,
        "customer_id": str(_require(o.body, "customer_id", str, int)),
        "status": _optional(o.body, "status", str),
        "total": _optional(o.body, "total", int),
        "lines": rows,
    }


def _product_row(o: Output) -> dict[str, Any]:
    return {
        "id": o.id,
        "version": o.version,
        "name": _optional(o.body, "name", str),
        "category": _optional(o.body, "category", str),
    }


@dataclass(frozen=True)
class GraphPattern:
    """One graph read model: how an Output of `target` becomes a row, and the statement for
    a whole batch of rows. `cypher` returns `count(*) AS applied`, the rows that passed the
    version guard, so the sink can report how many were stale."""

    target: str
    cypher: str
    to_row: Callable[[Output], dict[str, Any]]
    # (label, property) pairs that must be unique; MERGE is only safe and fast with them
    unique: tuple[tuple[str, str], ...] = field(default=())

    def statement(self, label_prefix: str = "") -> str:
        return relabel(self.cypher, label_prefix)

    def elements(self) -> tuple[str, ...]:
        """The labels and relationship types the statement touches, as the contracts name
        them (unprefixed): what a write of this pattern makes fresh."""
        return tuple(dict.fromkeys(_ELEMENT.findall(self.cypher)))

    def node_labels(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(_NODE.findall(self.cypher)))

    def relationship_types(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(_RELATIONSHIP.findall(self.cypher)))

    def constraint_statements(self, label_prefix: str = "") -> list[str]:
        return [
            f"CREATE CONSTRAINT {_constraint(label_prefix, label, prop)} IF NOT EXISTS "
            f"FOR (n:{label_prefix}{label}) REQUIRE n.{prop} IS UNIQUE"
            for label, prop in self.unique
        ]

    def drop_constraint_statements(self, label_prefix: str = "") -> list[str]:
        return [
            f"DROP CONSTRAINT {_constraint(label_prefix, label, prop)} IF EXISTS"
            for label, prop in self.unique
        ]


# a node `(x:Label` or a relationship `[x:TYPE` in a pattern (not a map's `{key: value}`)
_ELEMENT = re.compile(r"[(\[]\w*:(\w+)")
_NODE = re.compile(r"\(\w*:(\w+)")
_RELATIONSHIP = re.compile(r"\[\w*:(\w+)")


def _constraint(prefix: str, label: str, prop: str) -> str:
    return f"{prefix}{label}_{prop}_unique".lower()


# A moved customer or product leaves its old City/Category behind; it is deleted once nothing
# points at it, so the graph is a function of the current outputs, not of their history.
CUSTOMER = GraphPattern(
    target="customer",
    unique=(("Customer", "id"), ("City", "name")),
    to_row=_customer_row,
    cypher="""
UNWIND $rows AS row
MERGE (c:Customer {id: row.id})
WITH c, row WHERE c.version IS NULL OR c.version < row.version
SET c = row.props
WITH c, row
CALL (c, row) {
  MATCH (c)-[old:LIVES_IN]->(city:City)
  WHERE row.city IS NULL OR city.name <> row.city
  DELETE old
  WITH city WHERE NOT (city)--()
  DELETE city
}
CALL (c, row) {
  WITH c, row WHERE row.city IS NOT NULL
  MERGE (city:City {name: row.city})
  MERGE (c)-[:LIVES_IN]->(city)
}
RETURN count(*) AS applied
""",
)

ORDER = GraphPattern(
    target="order",
    unique=(("Order", "id"), ("Customer", "id"), ("Product", "id")),
    to_row=_order_row,
    cypher="""
UNWIND $rows AS row
MERGE (o:Order {id: row.id})
WITH o, row WHERE o.version IS NULL OR o.version < row.version
SET o = {id: row.id, status: row.status, total: row.total, version: row.version}
WITH o, row
CALL (o, row) {
  MATCH (other:Customer)-[placed:PLACED]->(o) WHERE other.id <> row.customer_id
  DELETE placed
}
CALL (o, row) {
  MERGE (c:Customer {id: row.customer_id})
  MERGE (c)-[:PLACED]->(o)
}
CALL (o) {
  MATCH (o)-[line:CONTAINS]->(:Product)
  DELETE line
}
CALL (o, row) {
  UNWIND row.lines AS line
  MERGE (p:Product {id: line.product_id})
  CREATE (o)-[:CONTAINS {quantity: line.quantity, unit_price: line.unit_price}]->(p)
}
RETURN count(*) AS applied
""",
)

PRODUCT = GraphPattern(
    target="product",
    unique=(("Product", "id"), ("Category", "name")),
    to_row=_product_row,
    cypher="""
UNWIND $rows AS row
MERGE (p:Product {id: row.id})
WITH p, row WHERE p.version IS NULL OR p.version < row.version
SET p = {id: row.id, name: row.name, version: row.version}
WITH p, row
CALL (p, row) {
  MATCH (p)-[old:IN_CATEGORY]->(cat:Category)
  WHERE row.category IS NULL OR cat.name <> row.category
  DELETE old
  WITH cat WHERE NOT (cat)--()
  DELETE cat
}
CALL (p, row) {
  WITH p, row WHERE row.category IS NOT NULL
  MERGE (cat:Category {name: row.category})
  MERGE (p)-[:IN_CATEGORY]->(cat)
}
RETURN count(*) AS applied
""",
)

GRAPH_PATTERNS: dict[str, GraphPattern] = {p.target: p for p in (CUSTOMER, ORDER, PRODUCT)}
