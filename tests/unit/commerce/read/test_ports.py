"""Commerce's port registry lists every port its read side writes."""

from __future__ import annotations

from commerce.read.ports import PORTS
from commerce.read.read_models import GRAPH_PATTERNS, INDEX_SPECS
from hindsight.contracts.ports import Port
from hindsight.topics import platform_ports, topic_name


def test_registry_lists_every_port_the_sinks_write() -> None:
    assert Port("kafka", topic_name("orders")) in PORTS
    assert platform_ports() <= PORTS
    assert {p.name for p in PORTS if p.kind == "elasticsearch"} == set(INDEX_SPECS)
    assert {p.name for p in PORTS if p.kind == "neo4j-label"} == {
        "Customer", "Order", "Product", "Category", "City"
    }  # fmt: skip
    assert {p.name for p in PORTS if p.kind == "neo4j-relationship"} == {
        "PLACED", "CONTAINS", "IN_CATEGORY", "LIVES_IN"
    }  # fmt: skip


def test_every_graph_element_a_pattern_touches_is_a_port() -> None:
    for pattern in GRAPH_PATTERNS.values():
        for label in pattern.node_labels():
            assert Port("neo4j-label", label) in PORTS
        for rel in pattern.relationship_types():
            assert Port("neo4j-relationship", rel) in PORTS
