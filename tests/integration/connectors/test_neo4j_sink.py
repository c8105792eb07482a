"""Neo4jSink against the real server: version-guarded UNWIND statements per pattern.

Every test runs the real statements on private labels (`T<hex>Customer`, ...) through the
sink's label prefix, and deletes those nodes and constraints afterwards.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from commerce.read.read_models import GRAPH_PATTERNS
from connectors.neo4j_sink import Neo4jSink
from connectors.positions import frontier
from hindsight.settings import Settings
from pipelines.model import Output
from pipelines.read_models import relabel
from tests.sink_contract import SinkContract

pytestmark = pytest.mark.servers("neo4j")


@pytest.fixture
def sink(settings: Settings) -> Iterator[Neo4jSink]:
    s = Neo4jSink(
        settings.neo4j_uri,
        (settings.neo4j_user, settings.neo4j_password),
        patterns=GRAPH_PATTERNS,
        label_prefix=f"T{uuid.uuid4().hex[:8]}",
    )
    s.start()
    try:
        yield s
    finally:
        s.drop()
        s.close()


def customer(id: str, version: int, **body: Any) -> Output:
    base: dict[str, Any] = {"id": id, "city": "Oslo", "lifetime_value": 0, "order_count": 0}
    return Output("neo4j", "customer", id, version, {**base, **body})


def order(id: str, version: int, customer_id: str = "c1", **body: Any) -> Output:
    base: dict[str, Any] = {
        "id": id,
        "customer_id": customer_id,
        "status": "placed",
        "total": 1800,
        "lines": [{"product_id": "p1", "quantity": 2, "unit_price": 900}],
    }
    return Output("neo4j", "order", id, version, {**base, **body})


def product(id: str, version: int, **body: Any) -> Output:
    base = {"id": id, "name": "Blue mug", "category": "mugs"}
    return Output("neo4j", "product", id, version, {**base, **body})


def query(sink: Neo4jSink, cypher: str, **params: Any) -> list[dict[str, Any]]:
    records, _, _ = sink.driver.execute_query(relabel(cypher, sink.label_prefix), params)
    return [r.data() for r in records]


def node(sink: Neo4jSink, label: str, key: str, value: str) -> dict[str, Any] | None:
    rows = query(sink, f"MATCH (n:{label} {{{key}: $v}}) RETURN properties(n) AS p", v=value)
    return rows[0]["p"] if rows else None


class TestNeo4jSink(SinkContract):
    def output(self, id: str, version: int, n: int) -> Output:
        return customer(id, version, order_count=n)

    def held(self, sink: Neo4jSink, id: str) -> tuple[int, Any] | None:
        props = node(sink, "Customer", "id", id)
        return (props["version"], props["order_count"]) if props else None

    def positions(self, sink: Neo4jSink) -> int:
        return frontier(sink.positions.load())


def test_first_write_creates_the_order_graph(sink: Neo4jSink) -> None:
    result = sink.write([order("o1", 1), customer("c1", 1, name="Ann"), product("p1", 1)])
    assert (result.written, result.skipped_stale) == (3, 0)
    rows = query(
        sink,
        "MATCH (:Customer {id: 'c1'})-[:PLACED]->(o:Order)-[r:CONTAINS]->(p:Product)"
        "-[:IN_CATEGORY]->(cat:Category) RETURN o.id AS o, r.quantity AS q, "
        "r.unit_price AS u, p.name AS p, cat.name AS cat",
    )
    assert rows == [{"o": "o1", "q": 2, "u": 900, "p": "Blue mug", "cat": "mugs"}]
    assert node(sink, "Order", "id", "o1") == {
        "id": "o1",
        "status": "placed",
        "total": 1800,
        "version": 1,
    }


def test_an_older_version_never_overwrites_a_newer_one(sink: Neo4jSink) -> None:
    sink.write([order("o1", 5, status="shipped"), customer("c1", 5, order_count=3)])
    result = sink.write([order("o1", 4, status="paid"), customer("c1", 2, order_count=1)])
    assert (result.written, result.skipped_stale) == (0, 2)
    assert node(sink, "Order", "id", "o1")["status"] == "shipped"  # type: ignore[index]
    assert node(sink, "Customer", "id", "c1")["order_count"] == 3  # type: ignore[index]


def test_a_duplicate_is_a_no_op(sink: Neo4jSink) -> None:
    sink.write([order("o1", 1)])
    result = sink.write([order("o1", 1, lines=[])])
    assert (result.written, result.skipped_stale) == (0, 1)
    assert query(sink, "MATCH (:Order)-[r:CONTAINS]->() RETURN count(r) AS n") == [{"n": 1}]


def test_customer_properties_are_replaced_so_an_erased_name_disappears(sink: Neo4jSink) -> None:
    sink.write([customer("c1", 1, name="Ann Smith")])
    assert node(sink, "Customer", "id", "c1")["name"] == "Ann Smith"  # type: ignore[index]
    sink.write([customer("c1", 2, city=None)])  # right to be forgotten: no name, no city
    assert node(sink, "Customer", "id", "c1") == {
        "id": "c1",
        "lifetime_value": 0,
        "order_count": 0,
        "version": 2,
    }
    assert query(sink, "MATCH (:Customer)-[r:LIVES_IN]->() RETURN count(r) AS n") == [{"n": 0}]


def test_lives_in_moves_when_the_city_changes(sink: Neo4jSink) -> None:
    sink.write([customer("c1", 1, city="Oslo"), customer("c2", 1, city="Oslo")])
    sink.write([customer("c1", 2, city="Rome")])
    rows = query(
        sink,
        "MATCH (c:Customer)-[:LIVES_IN]->(city:City) RETURN c.id AS c, city.name AS city "
        "ORDER BY c",
    )
    assert rows == [{"c": "c1", "city": "Rome"}, {"c": "c2", "city": "Oslo"}]
    sink.write([customer("c2", 2, city="Rome")])
    # nobody lives in Oslo any more: the graph holds only what current outputs say
    assert query(sink, "MATCH (n:City) RETURN n.name AS n") == [{"n": "Rome"}]


def test_a_product_merged_by_an_order_is_completed_by_its_product_output(
    sink: Neo4jSink,
) -> None:
    sink.write([order("o1", 1)])
    assert node(sink, "Product", "id", "p1") == {"id": "p1"}  # version null: any output wins
    result = sink.write([product("p1", 1, name="Blue mug", category="mugs")])
    assert result.written == 1
    assert node(sink, "Product", "id", "p1") == {"id": "p1", "name": "Blue mug", "version": 1}
    sink.write([order("o2", 1)])  # a later order does not touch the product's properties
    assert node(sink, "Product", "id", "p1")["version"] == 1  # type: ignore[index]
    assert query(sink, "MATCH (:Product)-[:IN_CATEGORY]->(c:Category) RETURN c.name AS c") == [
        {"c": "mugs"}
    ]


def test_order_lines_mirror_the_latest_output(sink: Neo4jSink) -> None:
    sink.write([order("o1", 1)])
    lines = [
        {"product_id": "p2", "quantity": 1, "unit_price": 500},
        {"product_id": "p3", "quantity": 4, "unit_price": 250},
    ]
    sink.write([order("o1", 2, lines=lines)])
    rows = query(
        sink,
        "MATCH (:Order {id: 'o1'})-[r:CONTAINS]->(p:Product) "
        "RETURN p.id AS p, r.quantity AS q ORDER BY p",
    )
    assert rows == [{"p": "p2", "q": 1}, {"p": "p3", "q": 4}]


def test_a_batch_keeps_only_the_newest_version_per_id(sink: Neo4jSink) -> None:
    result = sink.write([customer("c1", 3, city="Rome"), customer("c1", 1, city="Oslo")])
    assert (result.written, result.skipped_stale) == (1, 0)
    assert node(sink, "Customer", "id", "c1")["city"] == "Rome"  # type: ignore[index]


def test_an_unchanged_city_or_category_is_not_relinked_and_a_change_still_moves_it(
    sink: Neo4jSink,
) -> None:
    def link(pattern: str) -> list[dict[str, Any]]:
        return query(sink, f"MATCH {pattern} RETURN elementId(r) AS r, b.name AS to")

    lives_in, in_category = "(:Customer)-[r:LIVES_IN]->(b:City)", "(:Product)-[r:IN_CATEGORY]->(b)"
    sink.write([customer("c1", 1, city="Oslo"), product("p1", 1, category="mugs")])
    lives, kind = link(lives_in), link(in_category)
    assert len(lives) == len(kind) == 1
    sink.write([customer("c1", 2, city="Oslo", order_count=1), product("p1", 2, category="mugs")])
    assert link(lives_in) == lives and link(in_category) == kind  # the same relationships
    sink.write([customer("c1", 3, city=None), product("p1", 3, category="bowls")])
    assert link(lives_in) == [] and [k["to"] for k in link(in_category)] == ["bowls"]
    assert query(sink, "MATCH (n:City) RETURN n") == []
    assert query(sink, "MATCH (n:Category) RETURN n.name AS n") == [{"n": "bowls"}]
