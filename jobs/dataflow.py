"""The projection dataflow: Kafka event log -> contract validation -> keyed folds -> sinks.

    read event log (Kafka, offsets in checkpoints, event-time watermarks)
      -> validate against data contracts --(invalid)--> dead-letter topic
         and route to read-model keys, for every stage at once
      -> key by (projection, key) -> fold keyed state (stage i + 1 also folds what
         stage i's folds emit for it: joins, routed by the emitting fold)
      -> Elasticsearch changes / Neo4j changes, each to its own topic with Flink's
         exactly-once KafkaSink (a transaction committed on every checkpoint; each
         document's versions on one partition, in order)

The sink workers (connectors/sink_worker.py) read those topics `read_committed` and write
Elasticsearch and Neo4j in parallel with version-guarded upserts, committing their offsets
only after a flush. Why this shape: PyFlink's Python functions have no checkpoint hooks, so
a Python sink that buffers could lose its buffer after a checkpoint completed; Flink's Java
KafkaSink does flush on checkpoint, and Flink has no Neo4j connector (nor one for ES 9).

Records cross the Python/JVM boundary once per operator; between Python operators they
travel pickled (PICKLED_BYTE_ARRAY), which is the cheapest encoding PyFlink offers.
"""

from __future__ import annotations

import json
import pickle
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from pyflink.common import Types
from pyflink.common.serialization import SimpleStringSchema
from pyflink.datastream import OutputTag, StreamExecutionEnvironment
from pyflink.datastream.connectors.base import DeliveryGuarantee
from pyflink.datastream.connectors.kafka import KafkaRecordSerializationSchema, KafkaSink
from pyflink.datastream.functions import KeyedProcessFunction, ProcessFunction, RuntimeContext
from pyflink.datastream.state import ValueStateDescriptor
from pyflink.java_gateway import get_gateway
from pyflink.table import StreamTableEnvironment

from hindsight import topics
from hindsight.contracts.validator import Invalid, dead_letter, default_validator, validator_for
from hindsight.plugins import load
from pipelines.runtime import route_all, step

DLQ = OutputTag("dead-letters", Types.STRING())
_PICKLE = pickle.HIGHEST_PROTOCOL


def routed_type() -> Any:
    """(projection \x1f key, pickled event): what a fold is keyed by and folds. A new object
    per use: a type info caches its Java peer once used, and an OutputTag holding one can no
    longer be pickled into the functions that emit to it."""
    return Types.TUPLE([Types.STRING(), Types.PICKLED_BYTE_ARRAY()])


NEO4J = OutputTag("neo4j-changes", Types.STRING())


@dataclass(frozen=True)
class JobConfig:
    """Everything the job needs from configuration; built by the entry point from settings."""

    bootstrap: str
    topic_pattern: str  # regex of the event topics: topics.events_pattern(prefix)
    projections: str  # module:attribute of the stages, the settings' `projections`
    group_id: str = topics.projection_job_name()
    dlq_topic: str = topics.dlq_topic()
    es_topic: str = topics.sink_topic("elasticsearch")
    neo4j_topic: str = topics.sink_topic("neo4j")
    job_name: str = topics.projection_job_name()
    out_of_orderness_s: int = 5
    transaction_timeout_ms: int = 600_000
    max_request_bytes: int = 1024 * 1024  # the producers' largest request (Kafka's default)
    # where the validator's contracts live; carried here, not read from the workers' settings,
    # because a cluster's Python workers do not share the submitting shell's environment
    contracts_dirs: tuple[str, ...] = ()
    extra: dict[str, str] = field(default_factory=dict)


def _load(spec: str) -> Any:

    return load(spec)


class ValidateAndRoute(ProcessFunction):
    """Parse and check each record against the data contracts (the rest goes to the DLQ),
    then route it at once to every (projection, key) it feeds in EVERY stage: stage 0 on the
    main output, stage i on side output `stage-i-log`.

    Why one operator: each Python operator costs a JVM -> Python crossing and a pickle per
    record, and routing is a cheap pure function. Validating here and routing in one operator
    per stage cost 1 + stages crossings per event; this costs one."""

    def __init__(
        self,
        job_name: str,
        stages_spec: str,
        log_tags: Sequence[OutputTag | None],
        contracts_dirs: tuple[str, ...] = (),
    ) -> None:
        self.job_name = job_name
        self.stages_spec = stages_spec
        self.log_tags = list(log_tags)
        self.contracts_dirs = contracts_dirs

    def open(self, runtime_context: RuntimeContext) -> None:
        from pathlib import Path

        self.validator = (
            validator_for(tuple(map(Path, self.contracts_dirs)))
            if self.contracts_dirs
            else default_validator()
        )
        self.invalid_type = Invalid
        self.dead_letter = dead_letter
        self.route_all = route_all
        self.stages = list(zip(self.log_tags, _load(self.stages_spec), strict=True))
        self.dead = runtime_context.get_metrics_group().counter("dead_letters")

    def process_element(self, value: Any, ctx: ProcessFunction.Context) -> Iterable[Any]:
        raw, topic, partition, offset = value[0], value[1], value[2], value[3]
        raw = bytes(raw) if raw is not None else b""
        result = self.validator.validate(raw)
        if isinstance(result, self.invalid_type):
            self.dead.inc()
            record = self.dead_letter(
                raw,
                str(result),
                source_topic=topic,
                partition=partition,
                offset=offset,
                job=self.job_name,
            )
            yield DLQ, record.decode()
            return
        for tag, projections in self.stages:
            for name, key, routed in self.route_all(projections, result):
                keyed = (f"{name}\x1f{key}", pickle.dumps(routed, protocol=_PICKLE))
                yield keyed if tag is None else (tag, keyed)


class FoldKeyedState(KeyedProcessFunction):
    """The keyed fold: one state per (projection, key), kept by Flink (RocksDB, checkpointed).

    Emits Elasticsearch changes on the main output, Neo4j changes and the next stage's events
    on side outputs."""

    def __init__(self, stages_spec: str, stage: int, next_tag: OutputTag | None) -> None:
        self.stages_spec, self.stage, self.next_tag = stages_spec, stage, next_tag

    def open(self, runtime_context: RuntimeContext) -> None:

        stages = _load(self.stages_spec)
        self.by_name = {p.name: p for p in stages[self.stage]}
        self.next_stage = stages[self.stage + 1] if self.next_tag is not None else []
        self.route_all = route_all
        self.step = step
        self.state = runtime_context.get_state(
            ValueStateDescriptor("projection", Types.PICKLED_BYTE_ARRAY())
        )
        self.folded = runtime_context.get_metrics_group().counter("events_folded")

    def process_element(self, value: Any, ctx: KeyedProcessFunction.Context) -> Iterable[Any]:
        name, key = value[0].split("\x1f", 1)
        event = pickle.loads(value[1])
        old = self.state.value()
        new_state, outputs = self.step(self.by_name[name], old, key, event)
        if new_state is old:  # a duplicate or a replay: nothing changed
            return
        # a fold may change state without output yet (half of a join): keep it all the same
        self.state.update(new_state)
        self.folded.inc()
        for out in outputs:
            if out.sink == "elasticsearch":
                yield json.dumps(out.to_dict(), separators=(",", ":"))
            elif out.sink == "neo4j":
                yield NEO4J, json.dumps(out.to_dict(), separators=(",", ":"))
            elif self.next_tag is not None:  # an input of the next stage, routed here
                for name, key, routed in self.route_all(self.next_stage, out.body):
                    keyed = (f"{name}\x1f{key}", pickle.dumps(routed, protocol=_PICKLE))
                    yield self.next_tag, keyed


def _kafka_sink(cfg: JobConfig, topic: str, tx_prefix: str) -> KafkaSink:
    """Each writer subtask writes ONE partition (Flink's fixed partitioner), so every version
    of a read-model document lands on one partition, in the order its fold emitted them: all
    versions of a document come from one key, hence one fold subtask, and the writer is fed
    FORWARD by it. Kafka's default (sticky) partitioning of these unkeyed records spread the
    versions of one document over partitions; the sink workers then met an older version
    after a newer one (~10% of the records written stale, measured in `make demo`) and
    reported its append -> visible lag late. PyFlink's builder has no setter for it: the Java
    builder's is called directly."""
    serializer = (
        KafkaRecordSerializationSchema.builder()
        .set_topic(topic)
        .set_value_serialization_schema(SimpleStringSchema())
    )
    fixed = get_gateway().jvm.org.apache.flink.streaming.connectors.kafka.partitioner
    serializer._j_builder.setPartitioner(fixed.FlinkFixedPartitioner())
    return (
        KafkaSink.builder()
        .set_bootstrap_servers(cfg.bootstrap)
        .set_record_serializer(serializer.build())
        .set_delivery_guarantee(DeliveryGuarantee.EXACTLY_ONCE)
        .set_transactional_id_prefix(tx_prefix)
        .set_property("transaction.timeout.ms", str(cfg.transaction_timeout_ms))
        # a dead letter carries the original record (up to the event topics' limit) in base64
        .set_property("max.request.size", str(cfg.max_request_bytes))
        .build()
    )


def source_ddl(cfg: JobConfig) -> str:
    pattern = cfg.topic_pattern.replace("'", "''")  # SQL literals escape only quotes
    lag = cfg.out_of_orderness_s
    return f"""
        CREATE TEMPORARY TABLE event_log (
            `value` BYTES,
            `topic` STRING METADATA VIRTUAL,
            `partition` INT METADATA VIRTUAL,
            `offset` BIGINT METADATA VIRTUAL,
            `appended_at` TIMESTAMP_LTZ(3) METADATA FROM 'timestamp' VIRTUAL,
            WATERMARK FOR `appended_at` AS `appended_at` - INTERVAL '{lag}' SECOND
        ) WITH (
            'connector' = 'kafka',
            'topic-pattern' = '{pattern}',
            'properties.bootstrap.servers' = '{cfg.bootstrap}',
            'properties.group.id' = '{cfg.group_id}',
            'properties.isolation.level' = 'read_committed',
            'scan.startup.mode' = 'earliest-offset',
            'scan.topic-partition-discovery.interval' = '5 s',
            'format' = 'raw'
        )"""


def build(env: StreamExecutionEnvironment, cfg: JobConfig) -> None:
    """Add the whole projection dataflow to `env`; every operator is named as in the design."""
    t_env = StreamTableEnvironment.create(env)
    t_env.execute_sql(source_ddl(cfg))
    table = t_env.sql_query("SELECT `value`, `topic`, `partition`, `offset` FROM event_log")
    records = t_env.to_data_stream(table)

    stages: Sequence[Sequence[Any]] = _load(cfg.projections)
    log_tags = [
        OutputTag(f"stage-{i}-log", routed_type()) if i else None for i in range(len(stages))
    ]
    routed = (
        records.process(
            ValidateAndRoute(cfg.job_name, cfg.projections, log_tags, cfg.contracts_dirs),
            output_type=routed_type(),
        )
        .name("validate against data contracts, route to read-model keys")
        .uid("validate")
    )
    routed.get_side_output(DLQ).sink_to(
        _kafka_sink(cfg, cfg.dlq_topic, f"{cfg.job_name}-dlq")
    ).name("dead-letter topic (invalid events, reason + original bytes)").uid("dlq-sink")
    if not stages:
        return

    inputs: Any = routed  # stage 0: the log only
    es_streams, neo_streams = [], []
    for i, stage in enumerate(stages):
        names = ", ".join(p.name for p in stage)
        last = i + 1 == len(stages)
        next_tag = None if last else OutputTag(f"stage-{i + 1}-internal", routed_type())
        folded = (
            inputs.key_by(lambda r: r[0], key_type=Types.STRING())
            .process(FoldKeyedState(cfg.projections, i, next_tag), output_type=Types.STRING())
            .name(f"fold keyed state ({names})")
            .uid(f"fold-{i}")
        )
        es_streams.append(folded)
        neo_streams.append(folded.get_side_output(NEO4J))
        if next_tag is not None:  # the next stage folds the log and this stage's joins
            log = routed.get_side_output(log_tags[i + 1])
            inputs = log.union(folded.get_side_output(next_tag))

    es = es_streams[0].union(*es_streams[1:]) if len(es_streams) > 1 else es_streams[0]
    neo = neo_streams[0].union(*neo_streams[1:]) if len(neo_streams) > 1 else neo_streams[0]
    es.sink_to(_kafka_sink(cfg, cfg.es_topic, f"{cfg.job_name}-es")).name(
        "Elasticsearch changes (exactly-once to Kafka, flushed on checkpoint)"
    ).uid("es-sink")
    neo.sink_to(_kafka_sink(cfg, cfg.neo4j_topic, f"{cfg.job_name}-neo4j")).name(
        "Neo4j changes (exactly-once to Kafka, flushed on checkpoint)"
    ).uid("neo4j-sink")
