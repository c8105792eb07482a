"""The output ports the code writes to: one registry the sinks import and the linter checks.

A sink must take its topic, index alias or graph label from here rather than spell it, so the
governance linter can prove both directions: every port a contract names exists in the code,
and every port the code writes is owned by exactly one contract. Adding a read model therefore
means adding it here *and* to the owning domain's contract, or `hindsight contracts lint` fails.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from hindsight.relay import topic_name

PortKind = Literal["kafka", "elasticsearch", "neo4j-label", "neo4j-relationship"]

DOMAINS = ("customers", "catalog", "inventory", "orders", "billing")

# Kafka: one event topic per domain (written by the outbox relay) and the dead-letter topic
# (written by the projection jobs for events that fail validation).
EVENT_TOPICS: dict[str, str] = {d: topic_name(d) for d in DOMAINS}


def dlq_topic(prefix: str = "hindsight") -> str:
    """`<prefix>.dlq`: the deployment's dead-letter topic (the job's and the sink workers')."""
    return f"{prefix}.dlq"


DLQ_TOPIC = dlq_topic()


def projection_job_name(prefix: str = "hindsight") -> str:
    """`<prefix>-projections`: the Flink job's name, its Kafka group and its runs' records."""
    return f"{prefix}-projections"


# Kafka staging topics between the Flink job and the sink workers: one per sink, written
# transactionally by the job on checkpoints, read read_committed by the sink workers.
SINKS = ("elasticsearch", "neo4j")


def sink_topic(sink: str, prefix: str = "hindsight") -> str:
    """`<prefix>.sink.<sink>`; tests and second deployments change the prefix only."""
    return f"{prefix}.sink.{sink}"


SINK_TOPICS = tuple(sink_topic(s) for s in SINKS)

# Elasticsearch: the aliases queries use; concrete indices are `<alias>-<generation>` so that a
# rebuild (time travel, reprojection) can be swapped in behind the alias without downtime.
ES_ORDERS = "orders"
ES_CUSTOMERS = "customers"
ES_PRODUCTS = "products"
ES_ALIASES = (ES_ORDERS, ES_CUSTOMERS, ES_PRODUCTS)

# Neo4j:
# (:Customer)-[:PLACED]->(:Order)-[:CONTAINS]->(:Product)-[:IN_CATEGORY]->(:Category)
# (:Customer)-[:LIVES_IN]->(:City)
NEO4J_LABELS = ("Customer", "Order", "Product", "Category", "City")
NEO4J_RELATIONSHIPS = ("PLACED", "CONTAINS", "IN_CATEGORY", "LIVES_IN")


@dataclass(frozen=True, order=True)
class Port:
    kind: PortKind
    name: str

    def __str__(self) -> str:
        return f"{self.kind}:{self.name}"


def es_index(alias: str, generation: int) -> str:
    """The concrete index behind an alias; refuses aliases no contract owns."""
    if alias not in ES_ALIASES:
        raise ValueError(f"unknown Elasticsearch alias {alias!r}; known: {', '.join(ES_ALIASES)}")
    return f"{alias}-{generation}"


def code_ports() -> frozenset[Port]:
    """Every port the code writes: what the linter matches against the contracts' servers."""
    return frozenset(
        {Port("kafka", t) for t in (*EVENT_TOPICS.values(), DLQ_TOPIC, *SINK_TOPICS)}
        | {Port("elasticsearch", a) for a in ES_ALIASES}
        | {Port("neo4j-label", x) for x in NEO4J_LABELS}
        | {Port("neo4j-relationship", x) for x in NEO4J_RELATIONSHIPS}
    )
