"""PostgresSink against the real server: one version-guarded upsert per table per batch.

Every test owns private tables (`t<hex>_order_list`, ...) through the sink's table prefix, in
the read models' schema, and drops them afterwards.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from psycopg import sql

from commerce.read.read_models import TABLE_SPECS
from connectors import clients
from connectors.positions import frontier
from connectors.postgres_sink import PostgresSink
from connectors.sink_worker import InvalidOutput
from hindsight.settings import Settings
from pipelines.model import Output
from tests.sink_contract import SinkContract

pytestmark = pytest.mark.servers("postgres")


@pytest.fixture
def sink(settings: Settings) -> Iterator[PostgresSink]:
    s = PostgresSink(settings.postgres_dsn, specs=TABLE_SPECS,
                     schema=settings.postgres_read_schema,
                     table_prefix=f"t{uuid.uuid4().hex[:8]}_")  # fmt: skip
    s.start()
    try:
        yield s
    finally:
        s.drop()
        s.close()


def order(id: str, version: int, **body: Any) -> Output:
    row: dict[str, Any] = {
        "customer_id": "c1",
        "status": "placed",
        "total": 1800,
        "line_count": 1,
        "placed_at": "2026-12-01T10:00:00.000001Z",
        "updated_at": "2026-12-01T10:00:00.000001Z",
    }
    return Output("postgres", "order_list", id, version, {**row, **body})


def rows(sink: PostgresSink, table: str, where: str = "TRUE") -> list[dict[str, Any]]:
    name = sql.Identifier(sink.schema, TABLE_SPECS[table].table_name(sink.table_prefix))
    conn = clients.postgres_reader(sink.dsn)
    cur = conn.execute(sql.SQL("SELECT * FROM {} WHERE " + where).format(name))
    names = [c.name for c in cur.description or ()]
    return [dict(zip(names, r, strict=True)) for r in cur]


class TestPostgresSink(SinkContract):
    def output(self, id: str, version: int, n: int) -> Output:
        return order(id, version, total=n)

    def held(self, sink: PostgresSink, id: str) -> tuple[int, Any] | None:
        found = [r for r in rows(sink, "order_list") if r["order_id"] == id]
        return (found[0]["version"], found[0]["total"]) if found else None

    def positions(self, sink: PostgresSink) -> int:
        return frontier(sink.positions.load(clients.postgres_reader(sink.dsn)))


def test_a_field_the_output_stops_sending_becomes_null(sink: PostgresSink) -> None:
    body = {"name": "Ann Smith", "city": "Oslo", "order_count": 1, "lifetime_value": 900,
            "last_order_at": "2026-12-01T10:00:00Z", "forgotten": False}  # fmt: skip
    sink.write([Output("postgres", "customer_summaries", "c1", 1, body)])
    forgotten = {**body, "name": None, "forgotten": True}
    del forgotten["city"]
    sink.write([Output("postgres", "customer_summaries", "c1", 2, forgotten)])
    [row] = rows(sink, "customer_summaries")
    assert (row["name"], row["city"], row["forgotten"], row["version"]) == (None, None, True, 2)


def test_times_are_stored_as_instants(sink: PostgresSink) -> None:
    sink.write([order("o1", 1, placed_at="2026-12-01T11:00:00+01:00")])
    [row] = rows(sink, "order_list")
    assert row["placed_at"].isoformat() == "2026-12-01T10:00:00+00:00"


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ({"total": "18.00"}, "body.total: expected bigint"),
        ({"placed_at": "yesterday"}, "body.placed_at: not an ISO 8601 time"),
        ({"colour": "red"}, "body.colour: not a column of order_list"),
        ({"line_count": True}, "body.line_count: expected integer"),
    ],
)
def test_a_body_the_table_cannot_hold_is_refused_with_the_field_and_the_reason(
    sink: PostgresSink, body: dict[str, Any], reason: str
) -> None:
    bad = order("o1", 1, **body)
    with pytest.raises(InvalidOutput, match=reason):
        sink.validate(bad)
    result = sink.write([bad, order("o2", 1)])  # the rest of the batch is written
    assert len(result.rejected) == 1 and reason in result.rejected[0][1]
    assert [r["order_id"] for r in rows(sink, "order_list")] == ["o2"]


def test_start_creates_the_indexes_the_lists_page_through(sink: PostgresSink) -> None:
    conn = clients.postgres_reader(sink.dsn)
    indexes = conn.execute(
        "SELECT indexdef FROM pg_indexes WHERE schemaname = %s AND tablename = %s",
        (sink.schema, f"{sink.table_prefix}order_list"),
    ).fetchall()
    defs = " ".join(d for (d,) in indexes)
    assert "(customer_id, placed_at DESC, order_id DESC)" in defs
    assert "(status, placed_at DESC, order_id DESC)" in defs
