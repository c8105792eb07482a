"""Elasticsearch smoke test through the official client: mapping, bulk, search, aggregations."""

from __future__ import annotations

import uuid

import pytest
from elasticsearch import Elasticsearch, helpers

from hindsight.settings import Settings

pytestmark = pytest.mark.servers("elasticsearch")

CATEGORIES = ["books", "games", "garden", "kitchen"]


def test_mapping_bulk_search_and_aggregate(settings: Settings) -> None:
    es = Elasticsearch(settings.elasticsearch_url, request_timeout=30)
    assert es.info()["version"]["number"].split(".")[0] == str(
        __import__("elasticsearch").__versionstr__.split(".")[0]
    )
    index = f"smoke-{uuid.uuid4().hex[:8]}"
    alias = f"{index}-alias"
    try:
        es.indices.create(
            index=index,
            settings={"number_of_shards": 1, "number_of_replicas": 0},
            mappings={
                "properties": {
                    "name": {"type": "text", "fields": {"raw": {"type": "keyword"}}},
                    "category": {"type": "keyword"},
                    "price": {"type": "double"},
                    "created_at": {"type": "date"},
                    "lines": {
                        "type": "nested",
                        "properties": {"sku": {"type": "keyword"}, "qty": {"type": "integer"}},
                    },
                }
            },
            aliases={alias: {}},
        )
        docs = [
            {
                "_index": index,
                "_id": f"p-{i}",
                "name": f"{'blue' if i % 2 else 'red'} widget number {i}",
                "category": CATEGORIES[i % 4],
                "price": float(i),
                "created_at": f"2026-01-{1 + i % 28:02d}T00:00:00Z",
                "lines": [{"sku": f"s{i % 3}", "qty": i % 5}],
            }
            for i in range(1000)
        ]
        ok, errors = helpers.bulk(es, docs, refresh="wait_for")
        assert ok == 1000 and not errors

        health = es.cluster.health(index=index, wait_for_status="green", timeout="30s")
        assert health["status"] == "green"

        hits = es.search(
            index=alias, query={"match": {"name": "blue"}}, size=0, track_total_hits=True
        )
        assert hits["hits"]["total"]["value"] == 500

        aggs = es.search(
            index=alias,
            size=0,
            aggs={
                "by_cat": {
                    "terms": {"field": "category"},
                    "aggs": {"revenue": {"sum": {"field": "price"}}},
                }
            },
        )["aggregations"]["by_cat"]["buckets"]
        assert {b["key"]: b["doc_count"] for b in aggs} == {c: 250 for c in CATEGORIES}
        by_cat = {b["key"]: b["revenue"]["value"] for b in aggs}
        assert by_cat["books"] == sum(float(i) for i in range(0, 1000, 4))

        nested = es.search(
            index=alias,
            size=0,
            track_total_hits=True,
            query={
                "nested": {
                    "path": "lines",
                    "query": {
                        "bool": {
                            "filter": [
                                {"term": {"lines.sku": "s1"}},
                                {"range": {"lines.qty": {"gte": 3}}},
                            ]
                        }
                    },
                }
            },
        )
        expected = sum(1 for i in range(1000) if i % 3 == 1 and i % 5 >= 3)
        assert nested["hits"]["total"]["value"] == expected
    finally:
        es.indices.delete(index=index, ignore_unavailable=True)
