"""Probe of the new-partition race (KAFKA-15591): fresh topics produced to at once, with and
without waiting until every partition answers ListOffsets (what the platform does now).

Counts, per mode, the first batches the broker refused with NOT_LEADER_OR_FOLLOWER (the race's
precondition, from librdkafka's debug log), delivery reports without an offset, and topics
that hold fewer records than were acknowledged. Figures in $HINDSIGHT_HOME/bench/.

    python -m benchmarks.new_partitions --rounds 6 --topics 50
"""

from __future__ import annotations

import argparse
import json
import logging
import re
import time
import uuid
from pathlib import Path

from confluent_kafka import Consumer, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

from connectors.kafka_topics import wait_until_served
from entrypoints.figures import write
from hindsight.settings import get_settings

PARTITIONS = 4
_PARTITION = re.compile(r"probe-[0-9a-f]+ \[\d+\]")


class Refusals(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.partitions: set[str] = set()
        self.count = 0

    def emit(self, record: logging.LogRecord) -> None:
        text = record.getMessage()
        if "Not leader for partition" in text and "MessageSet" in text:
            self.count += 1
            found = _PARTITION.search(text)
            self.partitions.add(found.group(0) if found else text)


def run(bootstrap: str, wait: bool, rounds: int, topics: int, per_topic: int) -> dict[str, int]:
    admin = AdminClient({"bootstrap.servers": bootstrap})
    refusals = Refusals()
    logger = logging.getLogger(f"rdkafka-{wait}")
    logger.setLevel(logging.DEBUG)
    logger.addHandler(refusals)
    logger.propagate = False
    totals = {"partitions": 0, "offsetless": 0, "errors": 0, "short_topics": 0}
    for _ in range(rounds):
        names = [f"probe-{uuid.uuid4().hex[:8]}" for _ in range(topics)]
        producer = Producer(
            {
                "bootstrap.servers": bootstrap,
                "enable.idempotence": True,
                "acks": "all",
                "linger.ms": 0,
                "batch.num.messages": 20,
                "debug": "msg",
                "logger": logger,
            }
        )
        for future in admin.create_topics([NewTopic(t, PARTITIONS, 1) for t in names]).values():
            future.result(30)
        if wait:
            wait_until_served(admin, names)

        def delivered(err: object, msg: object) -> None:
            if err is not None:
                totals["errors"] += 1
            elif msg.offset() is None or msg.offset() < 0:  # type: ignore[attr-defined]
                totals["offsetless"] += 1

        for i in range(per_topic):
            for t in names:
                producer.produce(t, b"x" * 100, str(i).encode(), on_delivery=delivered)
            producer.poll(0)
        assert producer.flush(60) == 0
        consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": "probe"})
        for t in names:
            held = sum(
                hi - lo
                for lo, hi in (
                    consumer.get_watermark_offsets(TopicPartition(t, p), timeout=10)
                    for p in range(PARTITIONS)
                )
            )
            totals["short_topics"] += held < per_topic
        consumer.close()
        for future in admin.delete_topics(names).values():
            future.result(30)
        totals["partitions"] += topics * PARTITIONS
    totals["refused_first_batches"] = refusals.count
    totals["partitions_refused"] = len(refusals.partitions)
    return totals


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--topics", type=int, default=50)
    parser.add_argument("--per-topic", type=int, default=300)
    args = parser.parse_args()
    s = get_settings()
    started = time.monotonic()
    figures = {
        mode: run(s.kafka_bootstrap, mode == "wait", args.rounds, args.topics, args.per_topic)
        for mode in ("no_wait", "wait")
    }
    print(json.dumps(figures, indent=2), f"\n{time.monotonic() - started:.0f} s")
    n = {"topics": args.rounds * args.topics, "partitions_per_topic": PARTITIONS,
         "records_per_topic": args.per_topic}  # fmt: skip
    write(Path(s.home), "new-partitions", n, figures)


if __name__ == "__main__":
    main()
