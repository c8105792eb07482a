"""Each list a UI pages through is one walk of one index, first page and deep pages alike,
shown by PostgreSQL's own plans on a table of 60,000 orders (the planner prefers a scan and a
sort on a small table, as it should: a plan is only evidence at a size where it matters)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from commerce.read import lists
from commerce.read.read_models import TABLE_SPECS
from connectors import clients
from connectors.postgres_sink import PostgresSink
from hindsight.settings import Settings
from pipelines.model import Output

pytestmark = pytest.mark.servers("postgres")

ORDERS, CUSTOMERS = 60_000, 3_000
STATUSES = ("placed", "paid", "shipped", "delivered", "cancelled")
START = datetime(2026, 1, 1, tzinfo=UTC)
INDEXES = (
    "order_list_customer_id_placed_at_order_id_idx",
    "order_list_status_placed_at_order_id_idx",
    "order_list_placed_at_order_id_idx",
)


@pytest.fixture(scope="module")
def table(settings: Settings) -> Iterator[Settings]:
    s = settings.model_copy(update={"postgres_table_prefix": f"l{uuid.uuid4().hex[:8]}_"})
    sink = PostgresSink(s.postgres_dsn, specs=TABLE_SPECS, schema=s.postgres_read_schema,
                        table_prefix=s.postgres_table_prefix)  # fmt: skip
    sink.start()
    try:
        outputs = [
            Output(
                "postgres",
                "order_list",
                f"o{i:06d}",
                1,
                {
                    "customer_id": f"c{i % CUSTOMERS:05d}",
                    "status": STATUSES[i % 5],
                    "total": 100 * (i % 97),
                    "line_count": 1 + i % 4,
                    "placed_at": (START + timedelta(seconds=37 * i)).isoformat(),
                    "updated_at": (START + timedelta(seconds=37 * i)).isoformat(),
                },
            )  # fmt: skip
            for i in range(ORDERS)
        ]
        for i in range(0, ORDERS, 5000):
            assert sink.write(outputs[i : i + 5000]).written == len(outputs[i : i + 5000])
        with clients.postgres_for(s, autocommit=True) as conn:
            name = TABLE_SPECS["order_list"].table_name(s.postgres_table_prefix)
            conn.execute(f'ANALYZE "{s.postgres_read_schema}"."{name}"')
        yield s
    finally:
        sink.drop()
        sink.close()


def plan(s: Settings, *, without_indexes: bool = False, **filters: Any) -> dict[str, Any]:
    query, params = lists.orders_query(**filters, size=20, schema=s.postgres_read_schema,
                                       table_prefix=s.postgres_table_prefix)  # fmt: skip
    with clients.postgres_for(s) as conn:  # its own transaction: the SETs end with it
        if without_indexes:
            conn.execute("SET LOCAL enable_indexscan = off")
            conn.execute("SET LOCAL enable_bitmapscan = off")
        [(found,)] = conn.execute(f"EXPLAIN (FORMAT JSON) {query}", params).fetchall()
    return found[0]["Plan"]  # type: ignore[no-any-return]


def _nodes(node: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield node
    for child in node.get("Plans", ()):
        yield from _nodes(child)


@pytest.mark.parametrize(
    ("filters", "index"),
    [
        ({"customer_id": "c00042"}, "order_list_customer_id_placed_at_order_id_idx"),
        ({"status": "delivered"}, "order_list_status_placed_at_order_id_idx"),
        ({}, "order_list_placed_at_order_id_idx"),
    ],
)
def test_each_order_list_is_answered_by_an_index_on_every_page(
    table: Settings, filters: dict[str, str], index: str
) -> None:
    """The first page walks the list's own index; a deep page may take another index the
    planner finds cheaper (a status holding a fifth of the orders is as quickly found by
    walking the time index and skipping the others), never a scan of the table. By the
    planner's own estimate every page costs under a tenth of the same query without indexes."""
    deep = lists.encode_cursor(START + timedelta(seconds=37 * ORDERS // 2), "o030000")
    for after in (None, deep):  # the first page, and one half-way down the list
        found = plan(table, **filters, after=after)
        text = json.dumps(found)
        nodes = list(_nodes(found))
        assert not any(n["Node Type"] == "Seq Scan" for n in nodes), text
        used = {n["Index Name"] for n in nodes if "Index Name" in n}
        assert used and used <= {f"{table.postgres_table_prefix}{i}" for i in INDEXES}, text
        if after is None:
            assert used == {f"{table.postgres_table_prefix}{index}"}, text
        else:  # the cursor bounds the index walk itself, it is not a filter after it
            conds = " ".join(n.get("Index Cond", "") for n in nodes)
            assert "ROW(placed_at, order_id) <" in conds, text
        scanned = plan(table, **filters, after=after, without_indexes=True)
        assert found["Total Cost"] * 10 < scanned["Total Cost"], (found, scanned)


def test_a_deep_page_is_the_rows_right_after_the_cursor(table: Settings) -> None:
    conn = clients.postgres_reader(table.postgres_dsn)
    first = lists.orders_page(conn, customer_id="c00042", size=5, schema=table.postgres_read_schema,
                              table_prefix=table.postgres_table_prefix)  # fmt: skip
    ids = [o["order_id"] for o in first["items"]]
    # c00042's orders are every 3,000th: newest first from the top of the range
    newest = max(i for i in range(ORDERS) if i % CUSTOMERS == 42)
    assert ids == [f"o{newest - 3000 * k:06d}" for k in range(5)]
    second = lists.orders_page(conn, customer_id="c00042", size=5, after=first["next"],
                               schema=table.postgres_read_schema,
                               table_prefix=table.postgres_table_prefix)  # fmt: skip
    assert [o["order_id"] for o in second["items"]] == [
        f"o{newest - 3000 * k:06d}" for k in range(5, 10)
    ]
