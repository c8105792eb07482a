"""Sampling the latest messages of each topic, against a fake confluent-kafka consumer."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import confluent_kafka
import pytest

from hindsight.contracts.quality import sample_kafka

EOF_CODE = confluent_kafka.KafkaError._PARTITION_EOF


class FakeConsumer:
    """Two partitions of `hindsight.orders.events` holding 0..9 and 100..104."""

    data = {0: [f"m{i}".encode() for i in range(10)], 1: [f"n{i}".encode() for i in range(5)]}

    def __init__(self, config: dict[str, Any]) -> None:
        assert config["enable.auto.commit"] is False  # sampling must never move offsets
        self.queue: list[Any] = []
        self.closed = False

    def list_topics(self, topic: str, timeout: float) -> Any:
        if topic != "hindsight.orders.events":
            return SimpleNamespace(topics={})
        meta = SimpleNamespace(partitions={0: None, 1: None}, error=None)
        return SimpleNamespace(topics={topic: meta})

    def get_watermark_offsets(self, tp: Any, timeout: float) -> tuple[int, int]:
        return 0, len(self.data[tp.partition])

    def assign(self, assignment: list[Any]) -> None:
        for tp in assignment:
            for value in self.data[tp.partition][tp.offset :]:
                self.queue.append(_msg(tp.partition, value))
            self.queue.append(_msg(tp.partition, None, eof=True))

    def poll(self, timeout: float) -> Any:
        return self.queue.pop(0) if self.queue else None

    def unassign(self) -> None:
        self.queue.clear()

    def close(self) -> None:
        self.closed = True


def _msg(partition: int, value: bytes | None, eof: bool = False) -> Any:
    error = SimpleNamespace(code=lambda: EOF_CODE) if eof else None
    return SimpleNamespace(error=lambda: error, partition=lambda: partition, value=lambda: value)


def test_takes_the_latest_messages_spread_over_partitions(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(confluent_kafka, "Consumer", FakeConsumer)
    seen = []
    samples = sample_kafka(
        "localhost:9092",
        {"orders": "hindsight.orders.events", "billing": "hindsight.billing.events"},
        limit=6,
        on_message=lambda: seen.append(1),
    )
    assert samples["orders"] == [b"m7", b"m8", b"m9", b"n2", b"n3", b"n4"]
    assert samples["billing"] == []  # a topic that does not exist yet samples nothing
    assert len(seen) == 6
