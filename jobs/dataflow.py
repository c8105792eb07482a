"""The projection dataflow: Kafka event log -> contract validation -> keyed folds -> sinks.

    read event log (Kafka, offsets in checkpoints; the watermark is the log position)
      -> validate against data contracts, route to read-model keys for every stage at once
         (Python: ONE record out per event, a bundle)
      -> fan the bundle out (Java): invalid events -> dead-letter topic; stage i's events
      -> key by (projection, key) on the Java side -> fold keyed state (Python: one record
         out per fold, a bundle; stage i + 1 also folds what stage i's folds emit for it)
      -> fan out (Java): Elasticsearch / Neo4j / PostgreSQL changes (topics.SINKS), each to
         its own topic with Flink's exactly-once KafkaSink; the next stage's events to its
         key-by
      -> before each sink topic's writer, a position mark whenever the watermark rises: the
         frontier of the log every change before it covers (read-your-writes)

The sink workers (connectors/sink_worker.py) read those topics `read_committed` and write
Elasticsearch, Neo4j and PostgreSQL in parallel with version-guarded upserts, committing
their offsets only after a flush. Why this shape: PyFlink's Python functions have no checkpoint
hooks, so a Python sink that buffers could lose its buffer after a checkpoint completed;
Flink's Java KafkaSink does flush on checkpoint, and Flink has no Neo4j connector (nor one
for ES 9).

Why bundles and Java fan-out: in thread mode every record a Python operator emits, every side
output, every state access and metric call is a Python/JVM crossing, and all Python operators
of a TaskManager share one GIL. A Python key selector also adds a hidden Python map
(`key_by`'s AddKey). So each Python operator here is called once per record and emits one
tuple of arrays; `hindsight.flink.Explode` (jobs/java), chained behind it, fans it out,
and keys are extracted in Java (PyFlink's own KeyByKeySelector, field 0 of a Row). Measured
in `make bench-pipeline` (README, "Measured").
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from orjson import dumps, loads
from pyflink.common import Types
from pyflink.common.serialization import SimpleStringSchema
from pyflink.common.watermark_strategy import WatermarkStrategy
from pyflink.datastream import DataStream, KeyedStream, StreamExecutionEnvironment
from pyflink.datastream.connectors.base import DeliveryGuarantee
from pyflink.datastream.connectors.kafka import (
    KafkaOffsetsInitializer,
    KafkaRecordSerializationSchema,
    KafkaSink,
    KafkaSource,
)
from pyflink.datastream.functions import KeyedProcessFunction, ProcessFunction, RuntimeContext
from pyflink.datastream.state import ValueStateDescriptor
from pyflink.java_gateway import get_gateway

from hindsight import topics
from hindsight.contracts.sealing import default_sealing_policy, sealing_policy_for
from hindsight.contracts.validator import Invalid, dead_letter, default_validator, validator_for
from hindsight.events import parse_time, record_time_ms
from hindsight.eventstore.factory import open_key_reader
from hindsight.plugins import load
from hindsight.shredding import EventOpener, SealError
from pipelines.runtime import route_all, step

_COUNT_EVERY = 1000  # a metric update is a JVM call: the fold counter moves in steps of this


def routed_type() -> Any:
    """Row(projection \x1f key, JSON of [projection, key, event]): what a fold is keyed by
    and folds. A new object per use: a type info caches its Java peer once used."""
    return Types.ROW([Types.STRING(), Types.PRIMITIVE_ARRAY(Types.BYTE())])


def _keys_and_payloads() -> list[Any]:
    """Routed events in a bundle: their keys and their payloads as two arrays of one length
    (an array of Rows would arrive as copies of its last element; see Explode.java)."""
    return [
        Types.BASIC_ARRAY(Types.STRING()),
        Types.OBJECT_ARRAY(Types.PRIMITIVE_ARRAY(Types.BYTE())),
    ]


def validated_type(stages: int) -> Any:
    """The validator's bundle, one per record: (its dead letter as an array of none or one,
    stage 0's routed events' keys, their payloads, stage 1's keys, payloads, ...). A tuple
    (Flink's are at most 25 fields, so at most 12 stages) whose fields are never null: Flink's
    tuple serializer refuses a null field."""
    if 1 + 2 * stages > 25:
        raise ValueError(f"{stages} stages: the job chains at most 12")
    routed = (t for _ in range(stages) for t in _keys_and_payloads())
    return Types.TUPLE([Types.BASIC_ARRAY(Types.STRING()), *routed])


def folded_type() -> Any:
    """A fold's bundle, one per folded record: (each sink's changes, in topics.SINKS order,
    the next stage's routed events' keys, their payloads)."""
    changes = [Types.BASIC_ARRAY(Types.STRING()) for _ in topics.SINKS]
    return Types.TUPLE([*changes, *_keys_and_payloads()])


DEAD_FIELD = 0  # of validated_type(); stage i's keys are field 1 + 2i, payloads 2 + 2i
# of folded_type(): sink s's changes are field SINK_FIELD[s]; the payloads follow NEXT_FIELD
SINK_FIELD = {sink: i for i, sink in enumerate(topics.SINKS)}
NEXT_FIELD = len(topics.SINKS)
_SINK_LABEL = {"elasticsearch": "Elasticsearch", "neo4j": "Neo4j", "postgres": "PostgreSQL"}
# operator uids and transactional ids as the first two sinks always had them: a savepoint's
# state and a Kafka transaction are found again by these
_UID = {"elasticsearch": "es", "neo4j": "neo4j", "postgres": "postgres"}


def stage_field(stage: int) -> int:
    """The field of validated_type() holding stage `stage`'s keys (its payloads: the next)."""
    return 1 + 2 * stage


@dataclass(frozen=True)
class JobConfig:
    """Everything the job needs from configuration; built by the entry point from settings."""

    bootstrap: str
    topic_pattern: str  # regex of the event topics: topics.events_pattern(prefix)
    projections: str  # module:attribute of the stages, the settings' `projections`
    group_id: str = topics.projection_job_name()
    dlq_topic: str = topics.dlq_topic()
    # one topic per sink, in topics.SINKS order: `sink_topics(prefix)`
    sink_topics: tuple[str, ...] = tuple(topics.sink_topic(s) for s in topics.SINKS)
    job_name: str = topics.projection_job_name()
    transaction_timeout_ms: int = 600_000
    max_request_bytes: int = 1024 * 1024  # the producers' largest request (Kafka's default)
    # where the validator's contracts live; carried here, not read from the workers' settings,
    # because a cluster's Python workers do not share the submitting shell's environment
    contracts_dirs: tuple[str, ...] = ()
    extra: dict[str, str] = field(default_factory=dict)
    # a replay as of a moment (issue 14): the log up to what was recorded by `until_ms`
    # (epoch ms, inclusive) and, if given, up to global position `until_position`; the source
    # is then bounded and the job finishes once every partition has passed the moment
    until_ms: int | None = None
    until_position: int | None = None
    # where the event store keeps its subjects' keys (hindsight.eventstore.factory.key_source):
    # fields the contracts seal are opened with them (null once the subject was erased)
    keys: tuple[str, str, str] | None = None


def _load(spec: str) -> Any:

    return load(spec)


class ValidateAndRoute(ProcessFunction):
    """Parse and check each record against the data contracts (the rest becomes a dead
    letter), then route it at once to every (projection, key) it feeds in EVERY stage.

    One bundle out per record (see the module's docstring): (dead letter, stage 0's
    events, stage 1's, ...), fanned out by Java behind it."""

    def __init__(
        self,
        job_name: str,
        stages_spec: str,
        contracts_dirs: tuple[str, ...] = (),
        *,
        until_ms: int | None = None,
        until_position: int | None = None,
        keys: tuple[str, str, str] | None = None,
    ) -> None:
        self.job_name = job_name
        self.stages_spec = stages_spec
        self.contracts_dirs = contracts_dirs
        self.until_ms, self.until_position = until_ms, until_position
        self.keys = keys

    def open(self, runtime_context: RuntimeContext) -> None:
        from pathlib import Path

        roots = tuple(map(Path, self.contracts_dirs))
        self.validator = validator_for(roots) if roots else default_validator()
        policy = sealing_policy_for(roots) if roots else default_sealing_policy()
        # without a key source nothing can be opened: sealed fields stay sealed (a test's
        # hand-made log); with one, a sealed field reads as its value, or null once erased
        self.open_event = (
            EventOpener(policy, open_key_reader(self.keys)) if self.keys and policy.sealed
            else None
        )  # fmt: skip
        self.seal_error = SealError
        self.invalid_type = Invalid
        self.dead_letter = dead_letter
        self.route_all = route_all
        self.stages = _load(self.stages_spec)
        self.arrays = 2 * len(self.stages)  # a bundle's arrays may be empty, never None
        self.dead = runtime_context.get_metrics_group().counter("dead_letters")

    def process_element(self, value: Any, ctx: ProcessFunction.Context) -> Iterable[Any]:
        raw, topic, partition, offset = value[0], value[1], value[2], value[3]
        raw = bytes(raw) if raw is not None else b""
        result = self.validator.validate(raw)
        if isinstance(result, self.invalid_type):
            yield self._dead_letter(raw, str(result), topic, partition, offset)
            return
        if self.until_ms is not None and self._after_the_moment(result):
            return  # a replay's bounded source stops per partition; this is the exact cut
        if self.open_event is not None:
            try:
                result = self.open_event(result)
            except self.seal_error as err:  # tampered with, or copied from another subject
                yield self._dead_letter(raw, f"sealed value: {err}", topic, partition, offset)
                return
        bundle: list[Any] = [[]]
        routed_any = False
        for projections in self.stages:
            keys, payloads = [], []
            for name, key, event in self.route_all(projections, result):
                keys.append(f"{name}\x1f{key}")
                payloads.append(dumps((name, key, event)))
            bundle += (keys, payloads)
            routed_any = routed_any or bool(keys)
        if routed_any:
            yield tuple(bundle)

    def _dead_letter(
        self, raw: bytes, reason: str, topic: str, partition: int, offset: int
    ) -> tuple[Any, ...]:
        self.dead.inc()
        record = self.dead_letter(raw, reason, source_topic=topic, partition=partition,
                                  offset=offset, job=self.job_name)  # fmt: skip
        # lists, not tuples: process mode's array coders take lists only
        return ([record.decode()], *([] for _ in range(self.arrays)))

    def _after_the_moment(self, event: dict[str, Any]) -> bool:
        if self.until_position is not None and event["position"] > self.until_position:
            return True
        recorded_ms = record_time_ms(parse_time(event["recorded_at"]))  # as the relay stamps it
        return self.until_ms is not None and recorded_ms > self.until_ms


class FoldKeyedState(KeyedProcessFunction):
    """The keyed fold: one state per (projection, key), kept by Flink (RocksDB, checkpointed).

    One bundle out per fold that changed something: (Elasticsearch changes, Neo4j
    changes, the next stage's routed events)."""

    def __init__(self, stages_spec: str, stage: int) -> None:
        self.stages_spec, self.stage = stages_spec, stage

    def open(self, runtime_context: RuntimeContext) -> None:

        stages = _load(self.stages_spec)
        self.by_name = {p.name: p for p in stages[self.stage]}
        self.next_stage = stages[self.stage + 1] if self.stage + 1 < len(stages) else []
        self.route_all = route_all
        self.step = step
        self.state = runtime_context.get_state(
            ValueStateDescriptor("projection", Types.PICKLED_BYTE_ARRAY())
        )
        self.folded = runtime_context.get_metrics_group().counter("events_folded")
        self.unreported = 0

    def process_element(self, value: Any, ctx: KeyedProcessFunction.Context) -> Iterable[Any]:
        # the key rides in the payload too: ctx.get_current_key() would be a JVM call
        name, key, event = loads(value)
        old = self.state.value()
        new_state, outputs = self.step(self.by_name[name], old, key, event)
        if new_state is old:  # a duplicate or a replay: nothing changed
            return
        # a fold may change state without output yet (half of a join): keep it all the same
        self.state.update(new_state)
        self.unreported += 1
        if self.unreported >= _COUNT_EVERY:
            self.folded.inc(self.unreported)
            self.unreported = 0
        if not outputs:
            return
        changes: list[list[str]] = [[] for _ in SINK_FIELD]
        keys, payloads = [], []
        for out in outputs:
            field = SINK_FIELD.get(out.sink)
            if field is not None:
                changes[field].append(dumps(out.to_dict()).decode())
            else:  # an input of the next stage, routed here
                for n, k, routed in self.route_all(self.next_stage, out.body):
                    keys.append(f"{n}\x1f{k}")
                    payloads.append(dumps((n, k, routed)))
        yield (*changes, keys, payloads)


def explode(
    stream: Any, index: int, output_type: Any, name: str, uid: str, paired: int = -1
) -> Any:
    """The elements of field `index` of every bundle in `stream` (or, with `paired`, Rows of
    the pairs of fields `index` and `paired`), fanned out in Java (`hindsight.flink.Explode`,
    chained behind the Python operator that made the bundles)."""
    j_type = output_type.get_java_type_info()
    operator = get_gateway().jvm.hindsight.flink.Explode(index, paired, j_type)
    return DataStream(stream._j_data_stream.flatMap(operator)).name(name).uid(uid)


def keyed(stream: Any) -> KeyedStream:
    """`stream` (of routed_type()) keyed by its field 0 in Java, as PyFlink's own `key_by`
    does after its hidden Python AddKey map; here the records already carry the key."""
    gateway = get_gateway()
    selector = gateway.jvm.org.apache.flink.streaming.api.functions.python.KeyByKeySelector()
    key_type = Types.ROW([Types.STRING()]).get_java_type_info()
    j_keyed = stream._j_data_stream.keyBy(selector, key_type)
    return KeyedStream(j_keyed, Types.PRIMITIVE_ARRAY(Types.BYTE()), stream)


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


def source_properties(cfg: JobConfig) -> dict[str, str]:
    """The Kafka consumer settings of the event log's source beyond topics and offsets."""
    return {
        "isolation.level": "read_committed",
        "partition.discovery.interval.ms": "5000",  # a new domain's topic joins within 5 s
    }


def stopping_timestamp(cfg: JobConfig) -> int | None:
    """A replay's end: each partition stops at its first record stamped after the moment
    (the relay stamps every record with its event's recorded_at), so the job finishes; the
    validator drops what a partition still holds past the position asked for."""
    return None if cfg.until_ms is None else cfg.until_ms + 1  # the moment itself included


def event_log(env: StreamExecutionEnvironment, cfg: JobConfig) -> DataStream:
    """The event topics as Rows (value, topic, partition, offset), offsets in checkpoints.

    The watermark is the log position per partition (hindsight.flink.PositionWatermarks,
    taken from the relay's `position` header and its position marks): the frontier of
    positions every operator has passed, which PositionMarks writes into the sink topics.
    The records keep Kafka's record time (the event's recorded_at) as their timestamp."""
    gateway = get_gateway()
    operators = gateway.jvm.hindsight.flink
    builder = (
        KafkaSource.builder()
        .set_bootstrap_servers(cfg.bootstrap)
        .set_topic_pattern(cfg.topic_pattern)
        .set_group_id(cfg.group_id)
        .set_starting_offsets(KafkaOffsetsInitializer.earliest())
    )
    for key, value in source_properties(cfg).items():
        builder.set_property(key, value)
    until = stopping_timestamp(cfg)
    if until is not None:
        builder.set_bounded(KafkaOffsetsInitializer.timestamp(until))
    builder._j_builder.setDeserializer(operators.EventLogRecords())  # raw bytes + position
    watermarks = WatermarkStrategy(operators.PositionWatermarks.strategy())
    records = env.from_source(builder.build(), watermarks, "event log (Kafka)").uid("event-log")
    events = records._j_data_stream.flatMap(operators.EventsOnly())
    return DataStream(events).name("events (position marks dropped)").uid("events-only")


def position_marks(stream: DataStream, name: str, uid: str) -> DataStream:
    """`stream` with a mark of the watermark (a log position) after the changes it covers
    (hindsight.flink.PositionMarks), chained in front of the sink topic's writer."""
    j_type = Types.STRING().get_java_type_info()
    operator = get_gateway().jvm.hindsight.flink.PositionMarks()
    return DataStream(stream._j_data_stream.transform(name, j_type, operator)).uid(uid)


def build(env: StreamExecutionEnvironment, cfg: JobConfig) -> None:
    """Add the whole projection dataflow to `env`; every operator is named as in the design."""
    records = event_log(env, cfg)

    stages: Sequence[Sequence[Any]] = _load(cfg.projections)
    validated = (
        records.process(
            ValidateAndRoute(
                cfg.job_name,
                cfg.projections,
                cfg.contracts_dirs,
                until_ms=cfg.until_ms,
                until_position=cfg.until_position,
                keys=cfg.keys,
            ),  # fmt: skip
            output_type=validated_type(len(stages)),
        )
        .name("validate against data contracts, route to read-model keys")
        .uid("validate")
    )
    explode(validated, DEAD_FIELD, Types.STRING(), "invalid events", "explode-dead").sink_to(
        _kafka_sink(cfg, cfg.dlq_topic, f"{cfg.job_name}-dlq")
    ).name("dead-letter topic (invalid events, reason + original bytes)").uid("dlq-sink")
    if not stages:
        return

    changes: dict[str, list[Any]] = {sink: [] for sink in topics.SINKS}
    internal: Any = None  # the previous stage's events for this one
    for i, stage in enumerate(stages):
        names = ", ".join(p.name for p in stage)
        field = stage_field(i)
        inputs = explode(
            validated, field, routed_type(), f"stage {i} events", f"explode-log-{i}", field + 1
        )
        if internal is not None:  # this stage folds the log and the previous stage's joins
            inputs = inputs.union(internal)
        folded = (
            keyed(inputs)
            .process(FoldKeyedState(cfg.projections, i), output_type=folded_type())
            .name(f"fold keyed state ({names})")
            .uid(f"fold-{i}")
        )
        for sink, streams in changes.items():
            streams.append(explode(folded, SINK_FIELD[sink], Types.STRING(),
                                   f"{_SINK_LABEL.get(sink, sink)} changes",
                                   f"explode-{_UID[sink]}-{i}"))  # fmt: skip
        if i + 1 < len(stages):
            internal = explode(
                folded,
                NEXT_FIELD,
                routed_type(),
                f"events for stage {i + 1}",
                f"explode-next-{i}",
                NEXT_FIELD + 1,
            )

    for sink, topic in zip(topics.SINKS, cfg.sink_topics, strict=True):
        streams, label, uid = changes[sink], _SINK_LABEL.get(sink, sink), _UID[sink]
        stream = streams[0].union(*streams[1:]) if len(streams) > 1 else streams[0]
        stream = position_marks(stream, f"position marks ({label})", f"marks-{uid}")
        stream.sink_to(_kafka_sink(cfg, topic, f"{cfg.job_name}-{uid}")).name(
            f"{label} changes (exactly-once to Kafka, flushed on checkpoint)"
        ).uid(f"{uid}-sink")
