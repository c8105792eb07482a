"""Kafka smoke test through kafka-python: keyed records come back complete and in per-key order."""

from __future__ import annotations

import uuid
from collections import defaultdict

import pytest
from kafka import KafkaConsumer, KafkaProducer
from kafka.admin import KafkaAdminClient, NewTopic

from hindsight.settings import Settings

pytestmark = pytest.mark.servers("kafka")

N = 10_000
KEYS = 37


def test_produce_and_consume_keyed_records_in_per_key_order(settings: Settings) -> None:
    topic = f"smoke-{uuid.uuid4().hex[:8]}"
    admin = KafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap)
    try:
        admin.create_topics([NewTopic(topic, num_partitions=3, replication_factor=1)])
        assert topic in admin.list_topics()

        producer = KafkaProducer(
            bootstrap_servers=settings.kafka_bootstrap,
            acks="all",
            enable_idempotence=True,
            linger_ms=5,
        )
        for i in range(N):
            key = f"key-{i % KEYS}"
            producer.send(topic, key=key.encode(), value=str(i).encode())
        producer.flush()
        producer.close()

        consumer = KafkaConsumer(
            topic,
            bootstrap_servers=settings.kafka_bootstrap,
            auto_offset_reset="earliest",
            enable_auto_commit=False,
            group_id=f"g-{topic}",
            consumer_timeout_ms=15_000,
        )
        seen: dict[str, list[int]] = defaultdict(list)
        partition_of: dict[str, set[int]] = defaultdict(set)
        count = 0
        for record in consumer:
            seen[record.key.decode()].append(int(record.value))
            partition_of[record.key.decode()].add(record.partition)
            count += 1
            if count == N:
                break
        consumer.close()

        assert count == N
        assert len(seen) == KEYS
        for key, values in seen.items():
            assert values == sorted(values), f"{key} out of order"
            assert len(partition_of[key]) == 1, f"{key} spread over partitions"
        assert sorted(v for vs in seen.values() for v in vs) == list(range(N))
    finally:
        admin.delete_topics([topic])
        admin.close()
