from __future__ import annotations

import pytest

from hindsight.contracts.ports import DLQ_TOPIC, Port, code_ports, es_index
from hindsight.relay import topic_name


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
