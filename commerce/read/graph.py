"""Read-side queries over the Neo4j relationship graph.

(:Customer)-[:PLACED]->(:Order)-[:CONTAINS]->(:Product)-[:IN_CATEGORY]->(:Category),
(:Customer)-[:LIVES_IN]->(:City). These are the questions a graph answers better than an index:
who bought what, what is bought together, who shops like whom. Cancelled orders do not count
as purchases. `label_prefix` is the deployment's (`HINDSIGHT_NEO4J_LABEL_PREFIX`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pipelines.read_models import relabel

if TYPE_CHECKING:  # the client library loads with the client (connectors.clients)
    from neo4j import Driver

CUSTOMER_ORDERS = """
MATCH (c:Customer {id: $id})-[:PLACED]->(o:Order)
OPTIONAL MATCH (o)-[r:CONTAINS]->(p:Product)
WITH o, collect({product_id: p.id, name: p.name, quantity: r.quantity}) AS lines
RETURN o.id AS order_id, o.status AS status, o.total AS total, lines
ORDER BY o.id
"""

BOUGHT_TOGETHER = """
MATCH (p:Product {id: $id})<-[:CONTAINS]-(o:Order)-[:CONTAINS]->(other:Product)
WHERE o.status <> 'cancelled'
RETURN other.id AS product_id, other.name AS name, count(DISTINCT o) AS orders
ORDER BY orders DESC, product_id LIMIT $limit
"""

SIMILAR_CUSTOMERS = """
MATCH (c:Customer {id: $id})-[:PLACED]->(o:Order)-[:CONTAINS]->(p:Product)
WHERE o.status <> 'cancelled'
WITH c, collect(DISTINCT p) AS mine
UNWIND mine AS p
MATCH (p)<-[:CONTAINS]-(o2:Order)<-[:PLACED]-(other:Customer)
WHERE other <> c AND o2.status <> 'cancelled'
WITH other, count(DISTINCT p) AS shared, size(mine) AS n
RETURN other.id AS customer_id, shared, round(1.0 * shared / n, 3) AS overlap
ORDER BY shared DESC, customer_id LIMIT $limit
"""


def _rows(driver: Driver, cypher: str, label_prefix: str, **params: Any) -> list[dict[str, Any]]:
    records, _, _ = driver.execute_query(relabel(cypher, label_prefix), params, routing_="r")
    return [r.data() for r in records]


def customer_orders(
    driver: Driver, customer_id: str, *, label_prefix: str = ""
) -> list[dict[str, Any]]:
    return _rows(driver, CUSTOMER_ORDERS, label_prefix, id=customer_id)


def bought_together(
    driver: Driver, product_id: str, limit: int = 10, *, label_prefix: str = ""
) -> list[dict[str, Any]]:
    return _rows(driver, BOUGHT_TOGETHER, label_prefix, id=product_id, limit=limit)


def similar_customers(
    driver: Driver, customer_id: str, limit: int = 10, *, label_prefix: str = ""
) -> list[dict[str, Any]]:
    return _rows(driver, SIMILAR_CUSTOMERS, label_prefix, id=customer_id, limit=limit)
