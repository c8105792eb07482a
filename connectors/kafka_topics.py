"""Kafka topics the platform owns: created with the retention they need, served before use.

Two traps found on the real broker shape this module. A topic the controller has just created
is published with a leader before that broker has created the partition's log; an idempotent
producer's first request can then be refused while its next one is written first, and the
refused records are lost (KAFKA-15591). So a new topic counts as ready only once every
partition answers ListOffsets, which the leader serves from the log itself. And the event log
is the source of truth: a stock broker deletes records after 7 days, judged by the record's
timestamp, which is the event's `recorded_at` — old history would go at once. So every topic
here keeps everything, whatever the broker's defaults, and an existing topic that would delete
history is named in a warning at start-up.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from confluent_kafka import KafkaError, KafkaException, TopicPartition
from confluent_kafka.admin import AdminClient, ConfigResource, NewTopic, OffsetSpec

from hindsight.topics import SINKS, dlq_topic, sink_topic

log = logging.getLogger("hindsight.kafka")

# keep every record: by time and by size (the log is replayed from its first event)
KEEP_FOREVER: Mapping[str, str] = {"retention.ms": "-1", "retention.bytes": "-1"}
# an event topic takes records past the largest event (the validator's MAX_EVENT_BYTES), so
# an oversized one reaches the job and is dead-lettered with its reason instead of refused at
# a producer nobody watches; the dead-letter topic takes that record as base64 with headroom
MAX_RECORD_BYTES = 2 * 1024 * 1024
MAX_DEAD_LETTER_BYTES = 8 * 1024 * 1024
EVENT_LOG: Mapping[str, str] = {**KEEP_FOREVER, "max.message.bytes": str(MAX_RECORD_BYTES)}
DEAD_LETTERS: Mapping[str, str] = {
    **KEEP_FOREVER,
    "max.message.bytes": str(MAX_DEAD_LETTER_BYTES),
}


@dataclass(frozen=True)
class TopicSpec:
    name: str
    partitions: int
    config: Mapping[str, str] = field(default_factory=lambda: dict(KEEP_FOREVER))


def job_output_topics(prefix: str, partitions: int) -> list[TopicSpec]:
    """The topics a deployment's projection job writes: its dead letters and one per sink.
    Made before the job (or its sink workers) start: a broker's auto-created topic has the
    broker's retention and the new-partition race."""
    return [TopicSpec(dlq_topic(prefix), partitions, DEAD_LETTERS)] + [
        TopicSpec(sink_topic(name, prefix), partitions) for name in SINKS
    ]


class TopicNotReady(RuntimeError):
    pass


def ensure_topics(
    admin: AdminClient, specs: Sequence[TopicSpec], *, timeout_s: float = 30.0
) -> list[str]:
    """Create the missing topics, wait until every partition of each is served, and warn about
    existing ones that would delete history. Returns the names it created."""
    existing = set(admin.list_topics(timeout=timeout_s).topics)
    new = [s for s in specs if s.name not in existing]
    created: list[str] = []
    if new:
        futures = admin.create_topics(
            [NewTopic(s.name, s.partitions, 1, config=dict(s.config)) for s in new]
        )
        for name, future in futures.items():
            try:
                future.result(timeout_s)
                created.append(name)
                log.info("created topic %s", name)
            except KafkaException as err:
                if err.args[0].code() != KafkaError.TOPIC_ALREADY_EXISTS:
                    raise
    wait_until_served(admin, [s.name for s in specs], timeout_s=timeout_s)
    for problem in history_risks(admin, [s.name for s in specs if s.name in existing]):
        log.warning("%s", problem)
    return created


def wait_until_served(
    admin: AdminClient, topics: Iterable[str], *, timeout_s: float = 30.0
) -> None:
    """Until every partition of every topic answers ListOffsets (a leader in the metadata is
    not enough: the leader may not have created the log yet)."""
    topics = list(topics)
    deadline = time.monotonic() + timeout_s
    pending: set[str] = set(topics)
    last = ""
    while pending:
        for topic in sorted(pending):
            meta = admin.list_topics(topic, timeout=max(1.0, deadline - time.monotonic()))
            t = meta.topics.get(topic)
            if t is None or t.error is not None or not t.partitions:
                last = f"{topic}: no metadata ({t.error if t is not None else 'unknown'})"
                continue
            asks = {TopicPartition(topic, p): OffsetSpec.latest() for p in t.partitions}
            try:
                for future in admin.list_offsets(asks, request_timeout=5).values():
                    future.result()
            except KafkaException as err:
                last = f"{topic}: {err.args[0]}"
                continue
            pending.discard(topic)
        if pending:
            if time.monotonic() > deadline:
                raise TopicNotReady(
                    f"topics not served after {timeout_s:.0f} s: {sorted(pending)}; last: {last}"
                )
            time.sleep(0.1)


def history_risks(admin: AdminClient, topics: Iterable[str]) -> list[str]:
    """What in each topic's configuration would delete records: finite retention by time or
    size, or compaction (which keeps one record per key: one event per aggregate)."""
    resources = [ConfigResource(ConfigResource.Type.TOPIC, t) for t in topics]
    if not resources:
        return []
    problems = []
    for resource, future in admin.describe_configs(resources).items():
        entries = future.result()
        keys = ("retention.ms", "retention.bytes", "cleanup.policy")
        values = {k: entries[k].value for k in keys}
        bad = [f"{k}={values[k]}" for k in ("retention.ms", "retention.bytes") if values[k] != "-1"]
        if "compact" in (values["cleanup.policy"] or ""):
            bad.append(f"cleanup.policy={values['cleanup.policy']}")
        if bad:
            problems.append(
                f"topic {resource.name} would delete history ({', '.join(bad)}): it is replayed "
                "from its first record; set retention.ms=-1 retention.bytes=-1 "
                "cleanup.policy=delete (kafka-configs --alter --entity-type topics)"
            )
    return problems


def delete_groups(admin: AdminClient, groups: Sequence[str], *, timeout_s: float = 30.0) -> None:
    """Delete consumer groups; one that never committed (so does not exist) is no error."""
    for future in admin.delete_consumer_groups(list(groups), request_timeout=15).values():
        try:
            future.result(timeout_s)
        except KafkaException:
            continue
