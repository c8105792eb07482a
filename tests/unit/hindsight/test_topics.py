"""Every Kafka name comes from hindsight.topics, and a prefix changes all of them."""

from __future__ import annotations

import re

from hindsight import topics
from hindsight.contracts.model import default_contracts
from hindsight.contracts.ports import Port

SINK_TOPICS = {topics.sink_topic(s) for s in topics.SINKS}


def test_default_names() -> None:
    assert topics.topic_name("orders") == "hindsight.orders.events"
    assert topics.dlq_topic() == "hindsight.dlq"
    assert {
        "hindsight.sink.elasticsearch",
        "hindsight.sink.neo4j",
        "hindsight.sink.postgres",
    } == SINK_TOPICS
    assert topics.projection_job_name() == "hindsight-projections"
    assert topics.sink_instance("neo4j", "2") == "hindsight-sink-neo4j-2"


def test_a_prefix_renames_everything_and_nothing_else() -> None:
    names = [
        topics.topic_name("orders", "t1"), topics.dlq_topic("t1"), topics.sink_topic("neo4j", "t1"),
        topics.projection_job_name("t1"), topics.sink_group("neo4j", "t1"),
        topics.contract_test_group("t1"),
    ]  # fmt: skip
    assert all(n.startswith("t1") and "hindsight" not in n for n in names)


def test_the_events_pattern_matches_every_domain_topic_of_its_prefix_only() -> None:
    pattern = re.compile(topics.events_pattern("t.1"))
    assert pattern.fullmatch(topics.topic_name("library", "t.1"))
    assert not pattern.fullmatch(topics.topic_name("library", "tx1"))  # the dot is literal
    assert not pattern.fullmatch(topics.dlq_topic("t.1"))
    assert not pattern.fullmatch(topics.sink_topic("neo4j", "t.1"))


def test_the_sink_staging_topics_are_ports_the_platform_contract_owns() -> None:
    """The job writes them and the workers read them: both take the name from here, and
    exactly one contract (the platform's) declares them with a schema."""
    assert {Port("kafka", t) for t in SINK_TOPICS} <= topics.platform_ports()
    assert Port("kafka", "hindsight.dlq") in topics.platform_ports()
    owners = {
        t: [d for d, c in default_contracts().items() for s in c.servers if t in s.topics]
        for t in SINK_TOPICS
    }
    assert owners == {t: ["platform"] for t in SINK_TOPICS}
    platform = default_contracts()["platform"]
    assert {s.physical_name for s in platform.schemas if s.kind == "sinkChange"} == SINK_TOPICS
