"""Read-side queries over the Elasticsearch read models: full text, filters and facets.

Queries name aliases, never indices, so a rebuilt read model swapped in behind an alias is
what users see next; `alias_prefix` is the deployment's (`HINDSIGHT_ES_ALIAS_PREFIX`). Only
the standard analyzer exists on this node (no stemming), so matching is on words;
`fuzziness: AUTO` forgives typos instead.

Products are also found by meaning (`mode`): `semantic` ranks by the cosine between the
query's embedding and each name's (`pipelines.embedding`, an HNSW kNN query), `hybrid` adds
both scores in one bool query, the combination this node's free tier offers (its `rrf` and
`linear` retrievers are not available). A kNN score is (1 + cosine) / 2 and moves by tenths
where BM25 moves by units, so the kNN clause is boosted (`HYBRID_KNN_BOOST`, chosen with
`make bench-search`): words that match still count, meaning breaks the ties and finds what
no word matches.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal, get_args

from commerce.read.read_models import ORDERS, PRODUCTS
from pipelines import embedding

if TYPE_CHECKING:  # the client library loads with the client (connectors.clients)
    from elasticsearch import Elasticsearch


SearchMode = Literal["bm25", "semantic", "hybrid"]
MODES: tuple[str, ...] = get_args(SearchMode)
HYBRID_KNN_BOOST = 10.0
_CANDIDATES = 100  # per shard: HNSW's beam; recall against exact kNN rises with it


def product_query(
    text: str | None, mode: SearchMode, filters: list[dict[str, Any]], size: int
) -> dict[str, Any] | None:
    """The query for `mode`; None when a semantic query has no vector (no known word)."""
    if mode not in MODES:
        raise ValueError(f"mode must be one of {', '.join(MODES)}, not {mode!r}")
    words = {"match": {"name": {"query": text, "fuzziness": "AUTO"}}}
    if not text:
        return {"bool": {"must": [{"match_all": {}}], "filter": filters}}
    if mode == "bm25":
        return {"bool": {"must": [words], "filter": filters}}
    vector = embedding.embed(text)
    if vector is None:
        return None if mode == "semantic" else {"bool": {"must": [words], "filter": filters}}
    knn: dict[str, Any] = {
        "field": "embedding",
        "query_vector": vector,
        "k": max(size, 10),
        "num_candidates": max(_CANDIDATES, size),
    }
    if mode == "semantic":
        return {"bool": {"must": [{"knn": knn}], "filter": filters}}
    return {
        "bool": {
            "should": [words, {"knn": {**knn, "boost": HYBRID_KNN_BOOST}}],
            "minimum_should_match": 1,
            "filter": filters,
        }
    }


def search_products(
    es: Elasticsearch,
    text: str | None = None,
    *,
    mode: SearchMode = "bm25",
    category: str | None = None,
    min_price: int | None = None,
    max_price: int | None = None,
    in_stock: bool | None = None,
    size: int = 10,
    alias_prefix: str = "",
) -> dict[str, Any]:
    """Products by words in their name or by its meaning (`mode`), filtered; facets by
    category and price band (in semantic mode, over the nearest neighbours found)."""
    filters: list[dict[str, Any]] = []
    if category:
        filters.append({"term": {"category": category}})
    if min_price is not None or max_price is not None:
        bounds = {k: v for k, v in (("gte", min_price), ("lte", max_price)) if v is not None}
        filters.append({"range": {"price": bounds}})
    if in_stock:
        filters.append({"range": {"stock_on_hand": {"gt": 0}}})
    query = product_query(text, mode, filters, size)
    if query is None:
        return {"total": 0, "hits": [], "facets": {}}
    resp = es.search(
        index=PRODUCTS.alias_name(alias_prefix),
        size=size,
        query=query,
        source_excludes=list(PRODUCTS.vector_fields),
        sort=["_score", {"units_sold": "desc"}],
        aggs={
            "category": {"terms": {"field": "category", "size": 20}},
            "price": {
                "range": {
                    "field": "price",
                    "ranges": [
                        {"key": "< 10", "to": 1000},
                        {"key": "10-50", "from": 1000, "to": 5000},
                        {"key": "50-100", "from": 5000, "to": 10000},
                        {"key": ">= 100", "from": 10000},
                    ],
                }
            },
        },
        track_total_hits=True,
    )
    return _result(resp)


def search_orders(
    es: Elasticsearch,
    text: str | None = None,
    *,
    status: str | None = None,
    customer_id: str | None = None,
    min_total: int | None = None,
    size: int = 10,
    alias_prefix: str = "",
) -> dict[str, Any]:
    """Orders containing products whose name matches `text`; facets by status."""
    must: list[dict[str, Any]] = []
    if text:
        must.append(
            {
                "nested": {
                    "path": "lines",
                    "query": {"match": {"lines.name": {"query": text, "fuzziness": "AUTO"}}},
                }
            }
        )
    filters: list[dict[str, Any]] = []
    if status:
        filters.append({"term": {"status": status}})
    if customer_id:
        filters.append({"term": {"customer_id": customer_id}})
    if min_total is not None:
        filters.append({"range": {"total": {"gte": min_total}}})
    resp = es.search(
        index=ORDERS.alias_name(alias_prefix),
        size=size,
        query={"bool": {"must": must or [{"match_all": {}}], "filter": filters}},
        sort=["_score", {"placed_at": "desc"}],
        aggs={
            "status": {"terms": {"field": "status"}},
            "revenue": {"sum": {"field": "total"}},
        },
        track_total_hits=True,
    )
    return _result(resp)


def _result(resp: Any) -> dict[str, Any]:
    facets: dict[str, Any] = {}
    for name, agg in resp.get("aggregations", {}).items():
        if "buckets" in agg:
            facets[name] = {str(b["key"]): b["doc_count"] for b in agg["buckets"]}
        else:
            facets[name] = agg.get("value")
    return {
        "total": resp["hits"]["total"]["value"],
        "hits": [h["_source"] for h in resp["hits"]["hits"]],
        "facets": facets,
    }
