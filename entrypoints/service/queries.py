"""HTTP read endpoints over commerce's read models (Elasticsearch search, Neo4j graph)."""

from __future__ import annotations

from functools import cache
from typing import Any

from fastapi import APIRouter, Query

from commerce.read import graph, search
from connectors import clients
from entrypoints.replay import ReplayError, reading_at
from entrypoints.service.errors import ApiError
from hindsight.settings import Settings

AT = Query(default=None, description="read replay NAME (`hindsight replay`), not the live models")

# a bound Elasticsearch's `long` can hold: larger is a 422 here, not a 500 from the cluster
_LONG = 2**63 - 1


def query_router(settings: Settings) -> APIRouter:
    router = APIRouter()

    # built on the first request: the service starts (and answers commands) without them
    es = cache(lambda: clients.elasticsearch_for(settings))
    driver = cache(lambda: clients.neo4j_for(settings))

    def where(at: str | None) -> Settings:
        try:
            return reading_at(settings, at)
        except ReplayError as err:
            raise ApiError(404, "unknown_replay", str(err), field="at", reason="unknown") from None

    @router.get("/search/products", tags=["search"])
    def search_products(
        q: str | None = None,
        category: str | None = None,
        min_price: int | None = Query(default=None, ge=0, le=_LONG),
        max_price: int | None = Query(default=None, ge=0, le=_LONG),
        in_stock: bool | None = None,
        size: int = Query(default=10, ge=1, le=100),
        at: str | None = AT,
    ) -> dict[str, Any]:
        return search.search_products(
            es(),
            q,
            category=category,
            min_price=min_price,
            max_price=max_price,
            in_stock=in_stock,
            size=size,
            alias_prefix=where(at).es_alias_prefix,
        )

    @router.get("/search/orders", tags=["search"])
    def search_orders(
        q: str | None = None,
        status: str | None = None,
        customer_id: str | None = None,
        min_total: int | None = Query(default=None, ge=0, le=_LONG),
        size: int = Query(default=10, ge=1, le=100),
        at: str | None = AT,
    ) -> dict[str, Any]:
        return search.search_orders(
            es(),
            q,
            status=status,
            customer_id=customer_id,
            min_total=min_total,
            size=size,
            alias_prefix=where(at).es_alias_prefix,
        )

    @router.get("/graph/customers/{customer_id}/orders", tags=["graph"])
    def customer_orders(customer_id: str, at: str | None = AT) -> list[dict[str, Any]]:
        labels = where(at).neo4j_label_prefix
        return graph.customer_orders(driver(), customer_id, label_prefix=labels)

    @router.get("/graph/products/{product_id}/bought-together", tags=["graph"])
    def bought_together(
        product_id: str, limit: int = Query(10, ge=1, le=100), at: str | None = AT
    ) -> list[Any]:
        labels = where(at).neo4j_label_prefix
        return graph.bought_together(driver(), product_id, limit, label_prefix=labels)

    @router.get("/graph/customers/{customer_id}/similar", tags=["graph"])
    def similar(
        customer_id: str, limit: int = Query(10, ge=1, le=100), at: str | None = AT
    ) -> list[Any]:
        labels = where(at).neo4j_label_prefix
        return graph.similar_customers(driver(), customer_id, limit, label_prefix=labels)

    return router
