"""Commerce's read models as data: three search indices, three graph patterns, two tables.

What the generic sinks write for commerce (`pipelines.read_models` has the types): the
projections (`commerce.read.projections`) render the bodies, these say what an index maps and
which part of the graph a change replaces. Money is integer cents, hence `long`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from commerce.read.ports import (
    ES_CUSTOMERS,
    ES_ORDERS,
    ES_PRODUCTS,
    PG_CUSTOMER_SUMMARIES,
    PG_ORDER_LIST,
)
from pipelines import embedding
from pipelines.model import Output
from pipelines.read_models import (
    GraphPattern,
    IndexSpec,
    InvalidRow,
    TableSpec,
    optional,
    require,
)

_KEYWORD: dict[str, Any] = {"type": "keyword"}
_LONG: dict[str, Any] = {"type": "long"}
_DATE: dict[str, Any] = {"type": "date"}
# a name is searched as words and filtered/sorted/aggregated exactly
_NAME: dict[str, Any] = {
    "type": "text",
    "fields": {"keyword": {"type": "keyword", "ignore_above": 256}},
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
        # the name's meaning, for semantic and hybrid search (pipelines.embedding)
        "embedding": embedding.dense_vector_mapping(),
        "version": _LONG,
    },
    meta={"embedding": {"field": "embedding", "model": embedding.MODEL_ID, "dims": embedding.DIMS}},
)

INDEX_SPECS: dict[str, IndexSpec] = {s.alias: s for s in (ORDERS, CUSTOMERS, PRODUCTS)}


_SCALARS = (str, int, float, bool)


def _customer_row(o: Output) -> dict[str, Any]:
    # every scalar of the body becomes a property and the node is replaced by exactly this
    # map: a field the projection stopped sending (an erased name) disappears from the graph
    props = {k: v for k, v in o.body.items() if isinstance(v, _SCALARS)}
    props.update(id=o.id, version=o.version)
    return {
        "id": o.id,
        "version": o.version,
        "city": optional(o.body, "city", str),
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
                    "product_id": str(require(line, "product_id", str, int)),
                    "quantity": optional(line, "quantity", int),
                    "unit_price": optional(line, "unit_price", int),
                }
            )
        except InvalidRow as err:
            raise InvalidRow(f"body.lines[{i}].{str(err).removeprefix('body.')}") from None
    return {
        "id": o.id,
        "version": o.version,
        "customer_id": str(require(o.body, "customer_id", str, int)),
        "status": optional(o.body, "status", str),
        "total": optional(o.body, "total", int),
        "lines": rows,
    }


def _product_row(o: Output) -> dict[str, Any]:
    return {
        "id": o.id,
        "version": o.version,
        "name": optional(o.body, "name", str),
        "category": optional(o.body, "category", str),
    }


def _link_to_one(node: str, rel: str, label: str, field: str) -> str:
    """Cypher keeping `node` linked by `rel` to exactly the `label` named `row.<field>` (none
    when it is null). Relinked only when it differs from the one held: most versions of a
    customer or product (every order counted, every stock move) leave it where it is, and
    MERGE on a dense City or Category is not free. A node moved away from leaves its old
    City/Category behind; that one is deleted once nothing points at it, so the graph is a
    function of the current outputs, not of their history."""
    return f"""
CALL ({node}, row) {{
  OPTIONAL MATCH ({node})-[:{rel}]->(held:{label})
  WITH {node}, row, collect(held.name) AS have
  WITH {node}, row WHERE have <> CASE WHEN row.{field} IS NULL THEN [] ELSE [row.{field}] END
  CALL ({node}, row) {{
    MATCH ({node})-[old:{rel}]->(other:{label})
    WHERE row.{field} IS NULL OR other.name <> row.{field}
    DELETE old
    WITH other WHERE NOT (other)--()
    DELETE other
  }}
  CALL ({node}, row) {{
    WITH {node}, row WHERE row.{field} IS NOT NULL
    MERGE (target:{label} {{name: row.{field}}})
    MERGE ({node})-[:{rel}]->(target)
  }}
}}"""


CUSTOMER = GraphPattern(
    target="customer",
    unique=(("Customer", "id"), ("City", "name")),
    to_row=_customer_row,
    cypher=f"""
UNWIND $rows AS row
MERGE (c:Customer {{id: row.id}})
WITH c, row WHERE c.version IS NULL OR c.version < row.version
SET c = row.props
WITH c, row{_link_to_one("c", "LIVES_IN", "City", "city")}
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
// found from the order, which is bound: with no label on `other` the planner has no Customer
// scan to choose, so the plan stays an expand from `o` whatever statistics it was made with
// (from every Customer it cost 4,755 db hits per row on a 20k-event graph in one run)
CALL (o, row) {
  MATCH (o)<-[placed:PLACED]-(other) WHERE other.id <> row.customer_id
  DELETE placed
}
CALL (o, row) {
  MERGE (c:Customer {id: row.customer_id})
  MERGE (c)-[:PLACED]->(o)
}
// lines are relinked only when they differ from the ones held: relinking on every version
// deleted and re-created each line on dense Product nodes, although no command changes an
// order's lines after PlaceOrder; comparing reads only the order's own few relationships
CALL (o, row) {
  OPTIONAL MATCH (o)-[held:CONTAINS]->(p:Product)
  WITH o, row, [x IN collect([p.id, held.quantity, held.unit_price]) WHERE x[0] IS NOT NULL |
                x[0] + "|" + toString(coalesce(x[1], -1)) + "|" + toString(coalesce(x[2], -1))]
       AS have
  WITH o, row, have, [l IN row.lines | l.product_id + "|" + toString(coalesce(l.quantity, -1))
                      + "|" + toString(coalesce(l.unit_price, -1))] AS want
  WITH o, row WHERE size(have) <> size(want) OR any(x IN want WHERE NOT x IN have)
  CALL (o) {
    MATCH (o)-[line:CONTAINS]->(:Product)
    DELETE line
  }
  CALL (o, row) {
    UNWIND row.lines AS line
    MERGE (p:Product {id: line.product_id})
    CREATE (o)-[:CONTAINS {quantity: line.quantity, unit_price: line.unit_price}]->(p)
  }
}
RETURN count(*) AS applied
""",
)

PRODUCT = GraphPattern(
    target="product",
    unique=(("Product", "id"), ("Category", "name")),
    to_row=_product_row,
    cypher=f"""
UNWIND $rows AS row
MERGE (p:Product {{id: row.id}})
WITH p, row WHERE p.version IS NULL OR p.version < row.version
SET p = {{id: row.id, name: row.name, version: row.version}}
WITH p, row{_link_to_one("p", "IN_CATEGORY", "Category", "category")}
RETURN count(*) AS applied
""",
)

GRAPH_PATTERNS: dict[str, GraphPattern] = {p.target: p for p in (CUSTOMER, ORDER, PRODUCT)}


# --------------------------------------------------------------------------- PostgreSQL

# The order list a UI pages through, newest first: by customer, by status, or all. Each list is
# a keyset walk of one index, (filter, placed_at DESC, order_id DESC): `placed_at` orders,
# `order_id` breaks ties between orders placed in the same microsecond, so a page's last row
# is an exact cursor (commerce.read.lists).
ORDER_LIST = TableSpec(
    name=PG_ORDER_LIST,
    key="order_id",
    columns={
        "customer_id": "text",
        "status": "text",
        "total": "bigint",
        "line_count": "integer",
        "placed_at": "timestamptz",
        "updated_at": "timestamptz",
    },
    indexes=(
        ("customer_id", "placed_at DESC", "order_id DESC"),
        ("status", "placed_at DESC", "order_id DESC"),
        ("placed_at DESC", "order_id DESC"),
    ),
)

CUSTOMER_SUMMARIES = TableSpec(
    name=PG_CUSTOMER_SUMMARIES,
    key="customer_id",
    columns={
        "name": "text",
        "city": "text",
        "order_count": "bigint",
        "lifetime_value": "bigint",
        "last_order_at": "timestamptz",
        "forgotten": "boolean",
    },
    indexes=(("lifetime_value DESC", "customer_id DESC"),),
)

TABLE_SPECS: dict[str, TableSpec] = {s.name: s for s in (ORDER_LIST, CUSTOMER_SUMMARIES)}
