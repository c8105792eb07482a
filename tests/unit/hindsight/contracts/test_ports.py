from __future__ import annotations

import pytest

from connectors.sink_main import sink_topic as worker_topic
from hindsight.contracts.model import default_contracts
from hindsight.contracts.ports import DLQ_TOPIC, SINK_TOPICS, Port, code_ports, es_index
from hindsight.relay import topic_name
from hindsight.settings import Settings


def test_registry_lists_every_port_the_sinks_write() -> None:
    ports = code_ports()
    assert Port("kafka", topic_name("orders")) in ports
    assert Port("kafka", DLQ_TOPIC) in ports and DLQ_TOPIC == "hindsight.dlq"
    assert {p.name for p in ports if p.kind == "elasticsearch"} == {
        "orders",
        "customers",
        "products",
    }
    assert {p.name for p in ports if p.kind == "neo4j-label"} == {
        "Customer", "Order", "Product", "Category", "City"
    }  # fmt: skip
    assert {p.name for p in ports if p.kind == "neo4j-relationship"} == {
        "PLACED", "CONTAINS", "IN_CATEGORY", "LIVES_IN"
    }  # fmt: skip


def test_concrete_indices_live_behind_known_aliases() -> None:
    assert es_index("orders", 3) == "orders-3"
    with pytest.raises(ValueError, match="unknown Elasticsearch alias"):
        es_index("audit", 1)


def test_the_sink_staging_topics_are_ports_the_platform_contract_owns() -> None:
    """The job writes them and the workers read them: both take the name from the registry,
    and exactly one contract (the platform's) declares them with a schema."""
    assert set(SINK_TOPICS) == {"hindsight.sink.elasticsearch", "hindsight.sink.neo4j"}
    assert {Port("kafka", t) for t in SINK_TOPICS} <= code_ports()
    assert worker_topic("neo4j", Settings()) == "hindsight.sink.neo4j"
    owners = {
        t: [d for d, c in default_contracts().items() for s in c.servers if t in s.topics]
        for t in SINK_TOPICS
    }
    assert owners == {t: ["platform"] for t in SINK_TOPICS}
    platform = default_contracts()["platform"]
    assert {s.physical_name for s in platform.schemas if s.kind == "sinkChange"} == set(SINK_TOPICS)
