"""Sink logic that needs no server: strict parsing, per-key dedupe, backoff, row shaping."""

from __future__ import annotations

from collections.abc import Sequence

import orjson
import pytest

from commerce.read.read_models import GRAPH_PATTERNS, INDEX_SPECS
from connectors.sink_worker import (
    InvalidOutput,
    SinkUnavailable,
    WriteResult,
    latest_per_key,
    parse_output,
    sink_backoff,
)
from hindsight.retry import RetryPolicy
from pipelines.model import Output
from pipelines.read_models import InvalidRow, relabel


class _Sink:
    name = "neo4j"

    def start(self) -> None: ...

    def validate(self, output: Output) -> None:
        if output.target != "order":
            raise InvalidOutput("unknown target")

    def write(self, outputs: Sequence[Output]) -> WriteResult:
        return WriteResult()

    def elements(self, target: str) -> tuple[str, ...]:
        return (target,)

    def close(self) -> None: ...


def out(id: str, version: int, target: str = "order") -> Output:
    return Output("neo4j", target, id, version, {"n": version})


def test_latest_per_key_keeps_the_highest_version_in_first_seen_order() -> None:
    batch = [out("a", 1), out("b", 5), out("a", 3), out("a", 2), out("b", 4), out("a", 1, "x")]
    assert latest_per_key(batch) == [out("a", 3), out("b", 5), out("a", 1, "x")]


def test_latest_per_key_keeps_the_first_of_equal_versions() -> None:
    first, dup = out("a", 2), Output("neo4j", "order", "a", 2, {"n": "dup"})
    assert latest_per_key([first, dup]) == [first]


def test_parse_output_round_trips_a_valid_record() -> None:
    o = out("o1", 7)
    assert parse_output(orjson.dumps(o.to_dict()), _Sink()) == o


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        (None, "tombstone"),
        (b"\xff not json", "not JSON"),
        (b"[1, 2]", "JSON object"),
        (b'{"sink": "neo4j"}', "missing field"),
        (b'{"sink":"elasticsearch","target":"order","id":"a","version":1,"body":{}}', "sink"),
        (b'{"sink":"neo4j","target":"order","id":"","version":1,"body":{}}', "non-empty"),
        (b'{"sink":"neo4j","target":"order","id":"a","version":"1","body":{}}', "version"),
        (b'{"sink":"neo4j","target":"order","id":"a","version":true,"body":{}}', "version"),
        (b'{"sink":"neo4j","target":"order","id":"a","version":-1,"body":{}}', "version"),
        (b'{"sink":"neo4j","target":"order","id":"a","version":1,"body":[]}', "body"),
        (b'{"sink":"neo4j","target":"nope","id":"a","version":1,"body":{}}', "unknown target"),
    ],
)
def test_parse_output_rejects_anything_but_a_well_formed_output(
    value: bytes | None, reason: str
) -> None:
    with pytest.raises(InvalidOutput, match=reason):
        parse_output(value, _Sink())


def test_with_backoff_retries_then_returns() -> None:
    calls: list[int] = []
    retried: list[int] = []

    def flaky() -> str:
        calls.append(1)
        if len(calls) < 3:
            raise ConnectionError("down")
        return "ok"

    policy = RetryPolicy(initial_s=0.001, max_backoff_s=0.002, budget_s=5)
    result = sink_backoff(
        flaky, policy, (ConnectionError,), what="t", on_retry=lambda: retried.append(1)
    )
    assert result == "ok" and len(calls) == 3 and len(retried) == 2


def test_with_backoff_gives_up_after_its_budget_as_unavailable() -> None:
    def down() -> None:
        raise ConnectionError("down")

    with pytest.raises(SinkUnavailable, match="still failing"):
        sink_backoff(down, RetryPolicy(initial_s=0.01, budget_s=0.05), (ConnectionError,), what="t")


def test_with_backoff_does_not_retry_other_errors() -> None:
    calls: list[int] = []

    def broken() -> None:
        calls.append(1)
        raise KeyError("bug")

    with pytest.raises(KeyError):
        sink_backoff(broken, RetryPolicy(initial_s=0.001), (ConnectionError,), what="t")
    assert calls == [1]


def test_backoff_delays_grow_exponentially_up_to_the_cap() -> None:
    delays = iter(RetryPolicy(initial_s=0.1, multiplier=2, max_backoff_s=0.5).delays())
    assert [round(next(delays), 3) for _ in range(5)] == [0.1, 0.2, 0.4, 0.5, 0.5]


def test_relabel_prefixes_platform_labels_only() -> None:
    cypher = "MERGE (c:Customer {id: row.id})-[:LIVES_IN]->(x:City {name: row.city})"
    assert relabel(cypher, "T1") == (
        "MERGE (c:T1Customer {id: row.id})-[:LIVES_IN]->(x:T1City {name: row.city})"
    )
    assert relabel(cypher, "") == cypher


def test_customer_row_replaces_with_scalars_of_the_body_and_the_version() -> None:
    body = {"id": "c1", "city": None, "order_count": 2, "tags": {"x": 1}}
    o = Output("neo4j", "customer", "c1", 4, body)
    row = GRAPH_PATTERNS["customer"].to_row(o)
    assert row["city"] is None
    # a null is an absent property in Neo4j: SET c = props then removes the old value
    assert row["props"] == {"id": "c1", "order_count": 2, "version": 4}


def test_order_row_requires_a_customer_and_well_formed_lines() -> None:
    order = GRAPH_PATTERNS["order"]
    good = {"customer_id": "c1", "status": "placed", "total": 5, "lines": []}
    assert order.to_row(Output("neo4j", "order", "o1", 1, good))["customer_id"] == "c1"
    with pytest.raises(InvalidRow, match="customer_id"):
        order.to_row(Output("neo4j", "order", "o1", 1, {**good, "customer_id": None}))
    with pytest.raises(InvalidRow, match="lines"):
        order.to_row(Output("neo4j", "order", "o1", 1, {**good, "lines": [{"quantity": 1}]}))


def test_index_specs_use_contract_aliases_and_versioned_indices() -> None:
    assert set(INDEX_SPECS) == {"orders", "customers", "products"}
    assert INDEX_SPECS["orders"].index_name(3, "t-") == "t-orders-3"
    lines = INDEX_SPECS["orders"].create_body()["mappings"]["properties"]["lines"]
    assert lines["type"] == "nested"
    assert lines["properties"]["unit_price"] == {"type": "long"}


def test_an_unreachable_elasticsearch_is_unavailable_after_the_budget_not_dropped() -> None:
    from connectors.elasticsearch_sink import ElasticsearchSink

    sink = ElasticsearchSink(
        "http://127.0.0.1:9", specs=INDEX_SPECS, retry=RetryPolicy(initial_s=0.01, budget_s=0.2)
    )  # nothing listens on the discard port: connection refused
    o = Output("elasticsearch", "products", "p1", 1, {"product_id": "p1"})
    with pytest.raises(SinkUnavailable, match="elasticsearch bulk"):
        sink.write([o])
    sink.close()
