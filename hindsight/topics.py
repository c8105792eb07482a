"""Every Kafka name the platform uses, prefix-aware, in one place.

A deployment is a prefix (`HINDSIGHT_KAFKA_TOPIC_PREFIX`, "hindsight" by default): tests, the
fault suite and a second tenant on the same broker change the prefix and nothing else, so no
name may be spelt anywhere but here. The relay writes `events(domain)`, the projection job
reads the topics `events_pattern` matches and writes `dlq` and `sink(...)`, the sink workers
read `sink(...)` in `sink_group(...)` and dead-letter to `dlq`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from hindsight.contracts.ports import Port

DEFAULT_PREFIX = "hindsight"

# the sinks the projection job stages changes for, one topic each
SINKS = ("elasticsearch", "neo4j", "postgres")

# A header the relay sets on its position marks: records on every partition of every event
# topic saying "every event up to position N is on the log before me" (the value is
# `{"relayed_through": N}`). They are not events: a consumer of the event topics skips a
# record that carries this header. The projection job turns them into its watermark, the
# frontier of positions it has folded (see hindsight.relay and jobs/dataflow.py).
MARK_HEADER = "hindsight-mark"


def is_mark(headers: Iterable[tuple[str, bytes | None]] | None) -> bool:
    """Whether a record with these headers (as a Kafka client lists them) is a position mark."""
    return any(key == MARK_HEADER for key, _ in headers or ())


def topic_name(domain: str, prefix: str = DEFAULT_PREFIX) -> str:
    """`<prefix>.<domain>.events`: one event topic per domain, written by the relay."""
    return f"{prefix}.{domain}.events"


def events_pattern(prefix: str = DEFAULT_PREFIX) -> str:
    """The regex of every domain's event topic: what the projection job subscribes to, so a
    new domain is projected without a change to the job."""
    return rf"{re.escape(prefix)}\.[a-z0-9_-]+\.events"


def dlq_topic(prefix: str = DEFAULT_PREFIX) -> str:
    """`<prefix>.dlq`: the deployment's dead-letter topic (the job's and the sink workers')."""
    return f"{prefix}.dlq"


def sink_topic(sink: str, prefix: str = DEFAULT_PREFIX) -> str:
    """`<prefix>.sink.<sink>`: the job's changes for one sink, written transactionally on
    checkpoints and read `read_committed` by that sink's workers."""
    return f"{prefix}.sink.{sink}"


def projection_job_name(prefix: str = DEFAULT_PREFIX) -> str:
    """`<prefix>-projections`: the Flink job's name, its Kafka group and its runs' records."""
    return f"{prefix}-projections"


def sink_group(sink: str, prefix: str = DEFAULT_PREFIX) -> str:
    """`<prefix>-sink-<sink>`: the consumer group of one sink's workers."""
    return f"{prefix}-sink-{sink}"


def deployment_groups(prefix: str = DEFAULT_PREFIX) -> list[str]:
    """Every consumer group a deployment's job and sink workers commit as."""
    return [projection_job_name(prefix), *(sink_group(s, prefix) for s in SINKS)]


def sink_instance(sink: str, instance: str, prefix: str = DEFAULT_PREFIX) -> str:
    """A worker's static group membership id: a restarted worker takes its partitions back
    without a rebalance of the others."""
    return f"{sink_group(sink, prefix)}-{instance}"


def contract_test_group(prefix: str = DEFAULT_PREFIX) -> str:
    """The group `hindsight contracts test` samples topics as (it commits nothing)."""
    return f"{prefix}-contract-test"


def platform_ports(prefix: str = DEFAULT_PREFIX) -> frozenset[Port]:
    """The Kafka ports the platform itself writes, whatever the domain: the dead-letter topic
    and the sink staging topics (owned by the platform's data contract)."""
    return frozenset(
        {Port("kafka", dlq_topic(prefix))} | {Port("kafka", sink_topic(s, prefix)) for s in SINKS}
    )
