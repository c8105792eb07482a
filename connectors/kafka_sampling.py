"""What `hindsight contracts test` reads of Kafka: the latest messages of each topic, and
how many records each holds (so completeness can see a stored event missing from its topic).

It commits nothing and joins no group's partitions: it assigns partitions itself, reading
backwards from the high watermark, so sampling never moves a consumer's position.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from confluent_kafka import KafkaError, TopicPartition

from connectors.clients import kafka_consumer
from hindsight.topics import contract_test_group, is_mark


def sample_kafka(
    bootstrap: str,
    topics: Mapping[str, str],
    limit: int = 10_000,
    timeout: float = 10.0,
    on_message: Callable[[], None] | None = None,
) -> dict[str, list[bytes]]:
    """The latest `limit` messages of each topic ({domain: topic}), spread over partitions."""
    consumer = kafka_consumer(bootstrap, contract_test_group(), **{"enable.partition.eof": True})
    out: dict[str, list[bytes]] = {}
    try:
        for domain, topic in topics.items():
            meta = consumer.list_topics(topic, timeout=timeout).topics.get(topic)
            if meta is None or meta.error is not None:
                out[domain] = []
                continue
            parts = sorted(meta.partitions)
            per = max(1, limit // max(1, len(parts)))
            assignment, pending = [], set()
            for p in parts:
                low, high = consumer.get_watermark_offsets(
                    TopicPartition(topic, p), timeout=timeout
                )
                if high > low:
                    assignment.append(TopicPartition(topic, p, max(low, high - per)))
                    pending.add(p)
            values: list[bytes] = []
            if assignment:
                consumer.assign(assignment)
                while pending:
                    msg = consumer.poll(timeout)
                    if msg is None:
                        break  # nothing within the timeout: report what we have
                    if msg.error():
                        if msg.error().code() == KafkaError._PARTITION_EOF:
                            pending.discard(msg.partition())
                        continue
                    if is_mark(msg.headers()):
                        continue  # the relay's position mark: not an event
                    values.append(msg.value() or b"")
                    if on_message:
                        on_message()
                consumer.unassign()
            out[domain] = values
    finally:
        consumer.close()
    return out


def topic_records(
    bootstrap: str, topics: Mapping[str, str], timeout: float = 10.0
) -> dict[str, int]:
    """Records each topic holds ({domain: topic} -> {domain: count}; 0 for a missing topic)."""
    consumer = kafka_consumer(bootstrap, contract_test_group())
    out: dict[str, int] = {}
    try:
        for domain, topic in topics.items():
            meta = consumer.list_topics(topic, timeout=timeout).topics.get(topic)
            if meta is None or meta.error is not None:
                out[domain] = 0
                continue
            marks = [
                consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=timeout)
                for p in meta.partitions
            ]
            out[domain] = sum(high - low for low, high in marks)
    finally:
        consumer.close()
    return out
