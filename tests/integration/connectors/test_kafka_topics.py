"""Topics the platform creates keep everything and are served before anyone produces."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator

import pytest
from confluent_kafka import TopicPartition
from confluent_kafka.admin import AdminClient, ConfigResource, NewTopic, OffsetSpec

from connectors.kafka_topics import TopicSpec, ensure_topics, history_risks, wait_until_served
from hindsight.settings import Settings

pytestmark = pytest.mark.servers("kafka")


@pytest.fixture
def admin(settings: Settings) -> Iterator[AdminClient]:
    client = AdminClient({"bootstrap.servers": settings.kafka_bootstrap})
    yield client
    mine = [t for t in client.list_topics(timeout=10).topics if t.startswith("topics-test-")]
    if mine:
        for f in client.delete_topics(mine).values():
            f.result(30)


def name() -> str:
    return f"topics-test-{uuid.uuid4().hex[:8]}"


def configs(admin: AdminClient, topic: str) -> dict[str, str]:
    resource = ConfigResource(ConfigResource.Type.TOPIC, topic)
    entries = admin.describe_configs([resource])[resource].result()
    return {k: v.value for k, v in entries.items()}


def test_created_topics_keep_everything_and_answer_list_offsets_at_once(
    admin: AdminClient,
) -> None:
    topics = [name() for _ in range(5)]
    created = ensure_topics(admin, [TopicSpec(t, 4) for t in topics])
    assert sorted(created) == sorted(topics)
    # served the moment ensure_topics returns: every partition's leader answers from its log
    asks = {TopicPartition(t, p): OffsetSpec.latest() for t in topics for p in range(4)}
    answers = {tp: f.result() for tp, f in admin.list_offsets(asks).items()}
    assert all(a.offset == 0 for a in answers.values())
    for t in topics:
        c = configs(admin, t)
        assert (c["retention.ms"], c["retention.bytes"]) == ("-1", "-1"), t
    assert ensure_topics(admin, [TopicSpec(t, 4) for t in topics]) == []  # idempotent


def test_an_existing_topic_that_would_delete_history_is_named_in_a_warning(
    admin: AdminClient, caplog: pytest.LogCaptureFixture
) -> None:
    weekly, compacted, kept = name(), name(), name()
    new = [
        NewTopic(weekly, 2, 1, config={"retention.ms": "604800000"}),
        NewTopic(compacted, 2, 1, config={"cleanup.policy": "compact", "retention.ms": "-1"}),
        NewTopic(kept, 2, 1, config={"retention.ms": "-1", "retention.bytes": "-1"}),
    ]
    for f in admin.create_topics(new).values():
        f.result(30)
    # the broker describes a topic's configs from its metadata: wait until it serves them
    wait_until_served(admin, [weekly, compacted, kept])
    risks = history_risks(admin, [weekly, compacted, kept])
    assert len(risks) == 2
    assert any(weekly in r and "retention.ms=604800000" in r for r in risks)
    assert any(compacted in r and "cleanup.policy=compact" in r for r in risks)
    with caplog.at_level(logging.WARNING, logger="hindsight.kafka"):
        ensure_topics(admin, [TopicSpec(t, 2) for t in (weekly, compacted, kept)])
    warned = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warned) == 2 and any("would delete history" in w for w in warned)
