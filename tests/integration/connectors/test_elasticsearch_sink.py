"""ElasticsearchSink against the real server: external versions make writes idempotent.

Every test owns private indices: the sink's alias prefix is unique per test (`t<hex>-orders`
-> `t<hex>-orders-1`), and the fixture deletes them afterwards.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from elasticsearch import NotFoundError

from commerce.read.read_models import INDEX_SPECS
from connectors.elasticsearch_sink import ElasticsearchPositions, ElasticsearchSink
from connectors.positions import frontier
from hindsight.settings import Settings
from pipelines.model import Output
from tests.sink_contract import SinkContract

pytestmark = pytest.mark.servers("elasticsearch")


@pytest.fixture
def sink(settings: Settings) -> Iterator[ElasticsearchSink]:
    s = ElasticsearchSink(
        settings.elasticsearch_url, specs=INDEX_SPECS, alias_prefix=f"t{uuid.uuid4().hex[:8]}-"
    )
    s.start()
    try:
        yield s
    finally:
        s.drop()
        s.close()


def product(id: str, version: int, **body: Any) -> Output:
    doc = {"product_id": id, "name": "Blue mug", "category": "mugs", "price": 900}
    return Output("elasticsearch", "products", id, version, {**doc, **body, "version": version})


def source(sink: ElasticsearchSink, target: str, id: str) -> dict[str, Any]:
    doc = sink.client.get(index=sink.alias(target), id=id)
    return {**doc["_source"], "_version": doc["_version"]}


class TestElasticsearchSink(SinkContract):
    def output(self, id: str, version: int, n: int) -> Output:
        return product(id, version, price=n)

    def held(self, sink: ElasticsearchSink, id: str) -> tuple[int, Any] | None:
        try:
            doc = source(sink, "products", id)
        except NotFoundError:
            return None
        return doc["version"], doc["price"]

    def positions(self, sink: ElasticsearchSink) -> int:
        return frontier(ElasticsearchPositions(sink.client, sink.alias_prefix).load())


def test_start_creates_versioned_indices_behind_aliases_idempotently(
    sink: ElasticsearchSink,
) -> None:
    sink.start()  # a second start (restart, second worker) changes nothing
    for target in ("orders", "customers", "products"):
        aliases = sink.client.indices.get_alias(name=sink.alias(target))
        assert list(aliases) == [sink.index(target)]
    mapping = sink.client.indices.get_mapping(index=sink.index("orders"))
    props = mapping[sink.index("orders")]["mappings"]["properties"]
    assert props["lines"]["type"] == "nested"
    assert props["lines"]["properties"]["name"]["fields"]["keyword"]["type"] == "keyword"
    assert props["total"]["type"] == "long"


def test_first_write_creates_documents_with_the_output_version(sink: ElasticsearchSink) -> None:
    order = Output(
        "elasticsearch",
        "orders",
        "o1",
        3,
        {
            "order_id": "o1",
            "customer_id": "c1",
            "status": "paid",
            "total": 1800,
            "lines": [{"product_id": "p1", "name": "Blue mug", "quantity": 2, "unit_price": 900}],
            "placed_at": "2025-03-01T10:00:00Z",
            "timeline": [{"status": "placed", "at": "2025-03-01T10:00:00Z"}],
            "version": 3,
        },
    )
    result = sink.write([order, product("p1", 1)])
    assert (result.written, result.skipped_stale, result.rejected) == (2, 0, [])
    assert source(sink, "orders", "o1") == {**order.body, "_version": 3}
    sink.wait_searchable()
    hits = sink.client.search(
        index=sink.alias("orders"),
        query={"nested": {"path": "lines", "query": {"match": {"lines.name": "mug"}}}},
    )
    assert [h["_id"] for h in hits["hits"]["hits"]] == ["o1"]


def test_an_older_version_never_overwrites_a_newer_one(sink: ElasticsearchSink) -> None:
    sink.write([product("p1", 5, name="New name")])
    result = sink.write([product("p1", 4, name="Old name")])
    assert (result.written, result.skipped_stale) == (0, 1)
    assert source(sink, "products", "p1")["name"] == "New name"


def test_a_duplicate_is_a_no_op(sink: ElasticsearchSink) -> None:
    sink.write([product("p1", 2)])
    result = sink.write([product("p1", 2, name="same version, other body")])
    assert (result.written, result.skipped_stale) == (0, 1)
    assert source(sink, "products", "p1") == {**product("p1", 2).body, "_version": 2}


def test_a_batch_keeps_only_the_newest_version_per_id(sink: ElasticsearchSink) -> None:
    batch = [product("p1", 1, price=1), product("p1", 3, price=3), product("p1", 2, price=2)]
    result = sink.write(batch)
    assert (result.written, result.skipped_stale) == (1, 0)
    assert source(sink, "products", "p1")["price"] == 3


def test_a_body_that_breaks_the_mapping_is_rejected_not_retried(sink: ElasticsearchSink) -> None:
    bad = Output("elasticsearch", "products", "p9", 1, {"product_id": "p9", "colour": "red"})
    result = sink.write([bad, product("p1", 1)])
    assert result.written == 1 and result.retries == 0
    assert [(o.id, "strict_dynamic_mapping" in why) for o, why in result.rejected] == [("p9", True)]
