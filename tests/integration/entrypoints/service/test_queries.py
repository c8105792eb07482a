"""The read API over the real read models: what search (Elasticsearch) and the graph (Neo4j)
answer equals what the reference projection of the same log says, under the deployment's
alias and label prefixes.

The read models are written by the real sinks from the reference projector's outputs for a
generated log (that the Flink job produces exactly those outputs is the end-to-end tests'
business), so these tests are about the queries and the HTTP surface.
"""

from __future__ import annotations

import uuid
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient

from commerce.read.projections import PROJECTIONS
from commerce.read.read_models import GRAPH_PATTERNS, INDEX_SPECS, TABLE_SPECS
from connectors.elasticsearch_sink import ElasticsearchSink
from connectors.neo4j_sink import Neo4jSink
from connectors.postgres_sink import PostgresSink
from entrypoints import bootstrap
from entrypoints.service.app import create_app
from entrypoints.workload import run_direct
from hindsight.settings import Settings
from pipelines import embedding
from pipelines.reference import ReferenceProjector

pytestmark = pytest.mark.servers("elasticsearch", "neo4j", "postgres")


@dataclass
class World:
    client: TestClient
    es: dict[str, list[dict[str, Any]]]  # alias -> documents, as the reference has them
    graph_orders: list[dict[str, Any]]  # the Neo4j order outputs' bodies
    rows: dict[str, list[dict[str, Any]]]  # table -> rows, as the reference has them
    settings: Settings


@pytest.fixture(scope="module")
def world(settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    tag = uuid.uuid4().hex[:8]
    s = settings.model_copy(
        update={
            "home": tmp_path_factory.mktemp("queries"),
            "es_alias_prefix": f"q{tag}-",
            "neo4j_label_prefix": f"Q{tag}",
            "postgres_table_prefix": f"q{tag}_",
        }
    )
    handler = bootstrap.command_handler(s)
    run_direct(handler, handler.domain.workload(21, 2000), 2000)
    log = handler.store.read_all(0, 10**6)
    outputs = ReferenceProjector(PROJECTIONS).feed(e.to_dict() for e in log).outputs().values()
    es_sink = ElasticsearchSink(
        s.elasticsearch_url, specs=INDEX_SPECS, alias_prefix=s.es_alias_prefix
    )
    graph_sink = Neo4jSink(
        s.neo4j_uri,
        (s.neo4j_user, s.neo4j_password),
        patterns=GRAPH_PATTERNS,
        label_prefix=s.neo4j_label_prefix,
    )
    table_sink = PostgresSink(s.postgres_dsn, specs=TABLE_SPECS, schema=s.postgres_read_schema,
                              table_prefix=s.postgres_table_prefix)  # fmt: skip
    es_sink.start()
    graph_sink.start()
    table_sink.start()
    try:
        es_outputs = [o for o in outputs if o.sink == "elasticsearch"]
        graph_outputs = [o for o in outputs if o.sink == "neo4j"]
        assert not es_sink.write(es_outputs).rejected
        assert not graph_sink.write(graph_outputs).rejected
        table_outputs = [o for o in outputs if o.sink == "postgres"]
        assert not table_sink.write(table_outputs).rejected
        rows: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for o in table_outputs:
            rows[o.target].append(TABLE_SPECS[o.target].to_row(o))
        for target in es_sink.specs:
            es_sink.client.indices.refresh(index=es_sink.alias(target))
        docs: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for o in es_outputs:
            docs[o.target].append(o.body)
        with TestClient(create_app(handler, s)) as client:
            graph_orders = [o.body for o in graph_outputs if o.target == "order"]
            yield World(client, dict(docs), graph_orders, dict(rows), s)
    finally:
        table_sink.drop()
        table_sink.close()
        es_sink.drop()
        es_sink.close()
        graph_sink.drop()
        graph_sink.close()


def get(world: World, path: str, **params: Any) -> Any:
    r = world.client.get(path, params=params)
    assert r.status_code == 200, r.text
    return r.json()


def test_product_search_counts_and_facets_equal_the_reference(world: World) -> None:
    products = world.es["products"]
    res = get(world, "/search/products", size=100)
    assert res["total"] == len(products)
    categories = Counter(p["category"] for p in products if p.get("category"))
    assert res["facets"]["category"] == dict(categories)
    assert sum(res["facets"]["price"].values()) == sum(1 for p in products if "price" in p)


def test_product_filters_select_what_the_reference_selects(world: World) -> None:
    products = world.es["products"]
    res = get(world, "/search/products", min_price=1000, max_price=5000, size=100)
    expected = {p["product_id"] for p in products if 1000 <= p.get("price", -1) <= 5000}
    assert 0 < len(expected) < len(products)  # the filter selects something, not everything
    assert {h["product_id"] for h in res["hits"]} == expected
    in_stock = get(world, "/search/products", in_stock=True, size=100)
    assert in_stock["total"] == sum(1 for p in products if p.get("stock_on_hand", 0) > 0)


def test_a_word_of_a_product_name_finds_it(world: World) -> None:
    named = next(p for p in world.es["products"] if p.get("name"))
    word = named["name"].split()[-1]
    res = get(world, "/search/products", q=word, size=100)
    assert named["product_id"] in {h["product_id"] for h in res["hits"]}


def test_order_search_by_status_and_customer_with_revenue(world: World) -> None:
    orders = world.es["orders"]
    status = Counter(o["status"] for o in orders).most_common(1)[0][0]
    res = get(world, "/search/orders", status=status, size=100)
    chosen = [o for o in orders if o["status"] == status]
    assert res["total"] == len(chosen)
    assert res["facets"]["revenue"] == sum(o["total"] for o in chosen)
    customer = orders[0]["customer_id"]
    mine = get(world, "/search/orders", customer_id=customer, size=100)
    assert {h["order_id"] for h in mine["hits"]} == {
        o["order_id"] for o in orders if o["customer_id"] == customer
    }


def test_graph_answers_equal_the_reference(world: World) -> None:
    orders = world.graph_orders
    customer = Counter(o["customer_id"] for o in orders).most_common(1)[0][0]
    got = get(world, f"/graph/customers/{customer}/orders")
    assert [(r["order_id"], r["status"], r["total"]) for r in got] == sorted(
        (o["id"], o["status"], o["total"]) for o in orders if o["customer_id"] == customer
    )

    bought = [o for o in orders if o["status"] != "cancelled"]
    products_of = {o["id"]: {line["product_id"] for line in o["lines"]} for o in bought}
    product = Counter(p for ps in products_of.values() for p in ps).most_common(1)[0][0]
    together: Counter[str] = Counter()
    for ps in products_of.values():
        if product in ps:
            together.update(ps - {product})
    expected = sorted(together.items(), key=lambda kv: (-kv[1], kv[0]))[:10]
    assert expected, "the workload should buy some products together"
    got = get(world, f"/graph/products/{product}/bought-together", limit=10)
    assert [(r["product_id"], r["orders"]) for r in got] == expected

    buyer_of: dict[str, set[str]] = defaultdict(set)
    for o in bought:
        buyer_of[o["customer_id"]] |= products_of[o["id"]]
    mine = buyer_of[customer]
    shared = {c: len(ps & mine) for c, ps in buyer_of.items() if c != customer and ps & mine}
    expected_similar = sorted(shared.items(), key=lambda kv: (-kv[1], kv[0]))[:10]
    assert expected_similar, "the busiest customer should share products with someone"
    got = get(world, f"/graph/customers/{customer}/similar", limit=10)
    assert [(r["customer_id"], r["shared"]) for r in got] == expected_similar


def test_bounds_the_read_models_cannot_hold_are_422(world: World) -> None:
    r = world.client.get("/search/products", params={"min_price": 2**64})
    assert r.status_code == 422
    r = world.client.get("/search/orders", params={"min_total": -1})
    assert r.status_code == 422


def _nearest(world: World, text: str, k: int, category: str | None = None) -> list[str]:
    """The names of the `k` products whose embedding is nearest `text`'s, by exact cosine
    over the reference's documents (what HNSW approximates)."""
    query = embedding.embed(text)
    assert query is not None
    scored = sorted(
        (-sum(a * b for a, b in zip(query, p["embedding"], strict=True)), p["name"].lower())
        for p in world.es["products"]
        if "embedding" in p and category in (None, p["category"])
    )
    return [name for _, name in scored[:k]]


def test_semantic_search_ranks_by_meaning_as_exact_cosine_does(world: World) -> None:
    for text in ("something to cook pasta in", "light for reading at my desk"):
        res = get(world, "/search/products", q=text, mode="semantic", size=5)
        assert [h["name"].lower() for h in res["hits"]] == _nearest(world, text, 5)
        assert all("embedding" not in h for h in res["hits"])  # vectors stay in the index


def test_semantic_search_applies_the_filters_before_the_neighbours(world: World) -> None:
    res = get(world, "/search/products", q="light for reading", mode="semantic",
              category="garden", size=5)  # fmt: skip
    assert res["hits"] and {h["category"] for h in res["hits"]} == {"garden"}
    assert [h["name"].lower() for h in res["hits"]] == _nearest(
        world, "light for reading", 5, category="garden"
    )


def test_hybrid_search_keeps_the_word_matches_and_adds_the_meaning(world: World) -> None:
    named = next(p for p in world.es["products"] if p.get("name"))
    word = named["name"].split()[-1]
    res = get(world, "/search/products", q=word, mode="hybrid", size=100)
    assert named["product_id"] in {h["product_id"] for h in res["hits"]}
    bm25 = get(world, "/search/products", q="boil water for tea", size=5)
    hybrid = get(world, "/search/products", q="boil water for tea", mode="hybrid", size=5)
    assert len(hybrid["hits"]) == 5 and hybrid["hits"] != bm25["hits"]


def test_an_unknown_search_mode_is_a_422_naming_it(world: World) -> None:
    r = world.client.get("/search/products", params={"q": "kettle", "mode": "vibes"})
    assert r.status_code == 422
    assert r.json()["field"] == "mode" and "semantic" in r.json()["reason"]


def _walk(world: World, path: str, size: int, **params: Any) -> list[dict[str, Any]]:
    """Every item of a list, page after page through `next`."""
    items, after = [], None
    while True:
        page = get(world, path, size=size, **params, **({"after": after} if after else {}))
        assert len(page["items"]) <= size
        items += page["items"]
        after = page["next"]
        if after is None:
            return items


def _newest_first(rows: list[dict[str, Any]]) -> list[str]:
    key = lambda r: (datetime.fromisoformat(r["placed_at"]), r["order_id"])  # noqa: E731
    return [r["order_id"] for r in sorted(rows, key=key, reverse=True)]


def test_the_order_lists_page_through_exactly_the_reference_newest_first(world: World) -> None:
    orders = world.rows["order_list"]
    customer = Counter(o["customer_id"] for o in orders).most_common(1)[0][0]
    mine = [o for o in orders if o["customer_id"] == customer]
    assert len(mine) > 3  # more than one page of 3
    got = _walk(world, "/orders", 3, customer_id=customer)
    assert [o["order_id"] for o in got] == _newest_first(mine)
    assert got[0]["total"] == next(o["total"] for o in mine if o["order_id"] == got[0]["order_id"])
    status = Counter(o["status"] for o in orders).most_common(1)[0][0]
    got = _walk(world, "/orders", 25, status=status)
    assert [o["order_id"] for o in got] == _newest_first(
        [o for o in orders if o["status"] == status]
    )
    assert [o["order_id"] for o in _walk(world, "/orders", 100)] == _newest_first(orders)


def test_the_customer_list_pages_best_customers_first(world: World) -> None:
    rows = world.rows["customer_summaries"]
    got = _walk(world, "/customers", 7)
    want = sorted(rows, key=lambda r: (r["lifetime_value"], r["customer_id"]), reverse=True)
    assert [c["customer_id"] for c in got] == [c["customer_id"] for c in want]


def test_a_cursor_not_handed_out_is_a_422_naming_after(world: World) -> None:
    r = world.client.get("/orders", params={"after": "bm90IGEgY3Vyc29y"})
    assert r.status_code == 422 and r.json()["field"] == "after"
