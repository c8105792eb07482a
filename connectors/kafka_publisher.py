"""Kafka publisher for the outbox relay, on confluent-kafka (librdkafka).

librdkafka is several times faster per message than a pure-Python client, and its idempotent
producer keeps per-partition order across retries (max 5 in flight), which the relay relies on.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from confluent_kafka import KafkaError, Message

from connectors import clients
from connectors.kafka_topics import EVENT_LOG, TopicSpec, ensure_topics
from hindsight.relay import Record

log = logging.getLogger("hindsight.kafka")


class PublishError(RuntimeError):
    pass


class Deliveries:
    """Delivery reports, checked rather than assumed. A report without an error is not proof
    of a write: librdkafka "implicitly acks" a batch its idempotent producer believes the
    broker skipped past (a report with no error and no offset), which after KAFKA-15591 means
    the records are not in the log. Such a report counts as a failed delivery."""

    def __init__(self) -> None:
        self.failures: list[str] = []
        self.offsetless = 0
        self.delivered = 0

    def __call__(self, err: KafkaError | None, msg: Message) -> None:
        offset = msg.offset()
        if err is not None:
            self.failures.append(f"{msg.topic()}[{msg.partition()}] {msg.key()!r}: {err}")
        elif offset is None or offset < 0:
            self.offsetless += 1
            self.failures.append(
                f"{msg.topic()}[{msg.partition()}] {msg.key()!r}: acknowledged without an offset"
            )
        else:
            self.delivered += 1

    def check(self) -> None:
        if self.failures:
            if self.offsetless:
                log.warning("%d delivery reports carried no offset", self.offsetless)
            raise PublishError(f"{len(self.failures)} records failed: {self.failures[:3]}")


class KafkaPublisher:
    def __init__(self, bootstrap: str, *, partitions: int = 4, timeout_s: float = 30.0) -> None:
        self.bootstrap = bootstrap
        self.new_topic_partitions = partitions  # for topics it creates
        self.timeout_s = timeout_s
        self.producer = clients.kafka_producer(bootstrap, timeout_s=timeout_s)
        self.admin = clients.kafka_admin(bootstrap)
        self._known: set[str] = set()
        self._partitions: dict[str, int] = {}

    def ensure_topics(self, topics: Sequence[str]) -> None:
        missing = [t for t in topics if t not in self._known]
        if not missing:
            return
        specs = [TopicSpec(t, self.new_topic_partitions, EVENT_LOG) for t in missing]
        ensure_topics(self.admin, specs, timeout_s=self.timeout_s)
        self._known.update(missing)

    def partitions(self, topic: str) -> int:
        """From the broker's metadata (a topic made elsewhere may have another count)."""
        count = self._partitions.get(topic)
        if count is None:
            self.ensure_topics([topic])
            meta = self.admin.list_topics(topic, timeout=self.timeout_s).topics[topic]
            count = self._partitions[topic] = len(meta.partitions)
        return count

    def publish(self, records: Sequence[Record]) -> None:
        self.ensure_topics(sorted({r[0] for r in records}))
        deliveries = Deliveries()
        for topic, key, value, headers, timestamp_ms, partition in records:
            where = {} if partition is None else {"partition": partition}
            while True:
                try:
                    self.producer.produce(
                        topic,
                        value=value,
                        key=key or None,
                        headers=list(headers.items()),
                        timestamp=timestamp_ms,
                        on_delivery=deliveries,
                        **where,
                    )
                    break
                except BufferError:  # local queue full: let deliveries drain
                    self.producer.poll(0.05)
        remaining = self.producer.flush(self.timeout_s)
        if remaining:
            raise PublishError(f"{remaining} records not acknowledged within {self.timeout_s} s")
        deliveries.check()

    def close(self) -> None:
        self.producer.flush(self.timeout_s)
