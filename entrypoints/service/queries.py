"""HTTP read endpoints over commerce's read models (Elasticsearch search, Neo4j graph,
PostgreSQL lists).

Each takes `min_position` (read your own writes: the position a command answered with) and
waits for the store it reads to reach it; `/read-models` shows every store's position."""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import Any

from fastapi import APIRouter, Depends, Query

from commerce.read import graph, lists, search
from connectors import clients
from entrypoints import generations
from entrypoints.read_positions import (
    DEFAULT_WAIT_S,
    MAX_WAIT_S,
    Behind,
    BeyondTheLog,
    EventLog,
    ReadModelPositions,
)
from entrypoints.replay import ReplayError, reading_at
from entrypoints.service.errors import ApiError
from hindsight.settings import Settings
from hindsight.topics import SINKS

AT = Query(default=None, description="read replay NAME (`hindsight replay`), not the live models")
MIN_POSITION = Query(
    default=None,
    ge=0,
    description="wait until the read model holds every event up to this global position "
    "(a command's answer carries it): read your own writes",
)
WAIT_S = Query(default=DEFAULT_WAIT_S, gt=0, le=MAX_WAIT_S, description="how long to wait (s)")

# a bound Elasticsearch's `long` can hold: larger is a 422 here, not a 500 from the cluster
_LONG = 2**63 - 1


def query_router(settings: Settings, log: EventLog) -> APIRouter:
    router = APIRouter()

    # built on the first request: the service starts (and answers commands) without them
    es = cache(lambda: clients.elasticsearch_for(settings))
    driver = cache(lambda: clients.neo4j_for(settings))

    def reading(*stores: str) -> Callable[..., Settings]:
        """A dependency of every read: `at` (the live read models or a replay's) and, with
        `min_position`, the wait until `stores` hold it, or a clear answer why not."""

        def read_models_at(
            at: str | None = AT, min_position: int | None = MIN_POSITION, wait_s: float = WAIT_S
        ) -> Settings:
            try:
                s = reading_at(settings, at, stores)
            except ReplayError as err:
                raise ApiError(404, "unknown_replay", str(err), field="at",
                               reason="unknown") from None  # fmt: skip
            try:
                ReadModelPositions(s, log, es, driver).wait(stores, min_position, wait_s)
            except BeyondTheLog as err:
                raise ApiError(422, "invalid_query", str(err), field="min_position",
                               reason="beyond_the_log") from None  # fmt: skip
            except Behind as err:
                raise ApiError(503, "read_model_behind", str(err), field="min_position",
                               reason=f"{err.store}_behind", store=err.store,
                               position=err.reached, min_position=err.wanted,
                               headers={"Retry-After": "1"}) from None  # fmt: skip
            return s

        return read_models_at

    search_at = Depends(reading("elasticsearch"))
    graph_at = Depends(reading("neo4j"))
    every_at = Depends(reading(*SINKS))
    list_at = Depends(reading("postgres"))
    PAGE = Query(default=20, ge=1, le=lists.MAX_PAGE, description="rows per page")
    AFTER = Query(default=None, max_length=512,
                  description="the `next` of the previous page (keyset pagination)")  # fmt: skip

    @router.get("/read-models", tags=["read models"])
    def read_models(s: Settings = every_at) -> dict[str, Any]:
        """Each store's position (every event up to it is visible there), and its lag behind
        the log in events and in seconds; with `min_position`, once every store reaches it."""
        end, stores = ReadModelPositions(s, log, es, driver).status()
        return {
            "log_position": end,
            "generation": generations.live_generation(settings),  # a rebuild raises it
            "read_models": [p.to_dict() for p in stores],
        }

    @router.get("/search/products", tags=["search"])
    def search_products(
        q: str | None = None,
        mode: search.SearchMode = "bm25",
        category: str | None = None,
        min_price: int | None = Query(default=None, ge=0, le=_LONG),
        max_price: int | None = Query(default=None, ge=0, le=_LONG),
        in_stock: bool | None = None,
        size: int = Query(default=10, ge=1, le=100),
        s: Settings = search_at,
    ) -> dict[str, Any]:
        """Products by words (`bm25`), by meaning (`semantic`: kNN over name embeddings) or
        both (`hybrid`), with filters and facets."""
        return search.search_products(
            es(),
            q,
            mode=mode,
            category=category,
            min_price=min_price,
            max_price=max_price,
            in_stock=in_stock,
            size=size,
            alias_prefix=s.es_alias_prefix,
        )

    @router.get("/search/orders", tags=["search"])
    def search_orders(
        q: str | None = None,
        status: str | None = None,
        customer_id: str | None = None,
        min_total: int | None = Query(default=None, ge=0, le=_LONG),
        size: int = Query(default=10, ge=1, le=100),
        s: Settings = search_at,
    ) -> dict[str, Any]:
        return search.search_orders(
            es(),
            q,
            status=status,
            customer_id=customer_id,
            min_total=min_total,
            size=size,
            alias_prefix=s.es_alias_prefix,
        )

    def paged(read: Callable[[], dict[str, Any]]) -> dict[str, Any]:
        try:
            return read()
        except lists.InvalidCursor as err:
            raise ApiError(422, "invalid_request", str(err), field="after",
                           reason="not_a_cursor") from None  # fmt: skip

    @router.get("/orders", tags=["lists"])
    def orders(
        customer_id: str | None = Query(default=None, max_length=128),
        status: str | None = Query(default=None, max_length=32),
        after: str | None = AFTER,
        size: int = PAGE,
        s: Settings = list_at,
    ) -> dict[str, Any]:
        """Orders newest first, of a customer and/or in a status, a page at a time: pass the
        answer's `next` as `after` for the following page (PostgreSQL, one index per list)."""
        conn = clients.postgres_reader(s.postgres_dsn)
        return paged(lambda: lists.orders_page(
            conn, customer_id=customer_id, status=status, after=after, size=size,
            schema=s.postgres_read_schema, table_prefix=s.postgres_table_prefix))  # fmt: skip

    @router.get("/customers", tags=["lists"])
    def customers(
        after: str | None = AFTER, size: int = PAGE, s: Settings = list_at
    ) -> dict[str, Any]:
        """Customer summaries, best customers (lifetime value) first, a page at a time."""
        conn = clients.postgres_reader(s.postgres_dsn)
        return paged(lambda: lists.customers_page(
            conn, after=after, size=size, schema=s.postgres_read_schema,
            table_prefix=s.postgres_table_prefix))  # fmt: skip

    @router.get("/graph/customers/{customer_id}/orders", tags=["graph"])
    def customer_orders(customer_id: str, s: Settings = graph_at) -> list[dict[str, Any]]:
        return graph.customer_orders(driver(), customer_id, label_prefix=s.neo4j_label_prefix)

    @router.get("/graph/products/{product_id}/bought-together", tags=["graph"])
    def bought_together(
        product_id: str, limit: int = Query(10, ge=1, le=100), s: Settings = graph_at
    ) -> list[Any]:
        labels = s.neo4j_label_prefix
        return graph.bought_together(driver(), product_id, limit, label_prefix=labels)

    @router.get("/graph/customers/{customer_id}/similar", tags=["graph"])
    def similar(
        customer_id: str, limit: int = Query(10, ge=1, le=100), s: Settings = graph_at
    ) -> list[Any]:
        labels = s.neo4j_label_prefix
        return graph.similar_customers(driver(), customer_id, limit, label_prefix=labels)

    return router
