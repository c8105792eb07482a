"""The generic sink worker: Kafka sink topic -> bounded batches -> a read-model sink.

Delivery is at-least-once by construction: offsets are committed synchronously only after
the sink said the whole batch is durable (and its dead letters were acknowledged), so a crash
anywhere re-delivers at most the uncommitted batch. The sinks make that exactly-once in
effect: every write is guarded by `Output.version`, so a re-delivered, duplicated or older
output is counted as stale and changes nothing.

The consumer reads with `isolation.level=read_committed` because the Flink job writes the
topic with transactions committed on checkpoints; aborted attempts of a failed checkpoint
must never reach a read model.

While a server is down the worker does not drop and does not commit: it pauses its
partitions (polling on, so the group keeps it as a member), waits with exponential backoff
and retries the same batch until the server answers or it is told to stop.
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any, Protocol, TypeVar

import orjson
from confluent_kafka import (
    TIMESTAMP_NOT_AVAILABLE,
    Consumer,
    KafkaError,
    KafkaException,
    Message,
    Producer,
    TopicPartition,
)

from connectors import clients
from connectors.freshness import FreshnessLog
from connectors.positions import Mark, latest_marks, parse_mark
from hindsight import topics
from hindsight.contracts import dead_letter
from hindsight.retry import RetryPolicy, with_backoff
from pipelines.model import Output
from pipelines.read_models import InvalidRow

log = logging.getLogger("hindsight.sink")

_MAX_BLOCK_S = 0.5

T = TypeVar("T")

# ------------------------------------------------------------------ the contract with sinks


class SinkError(RuntimeError):
    """A sink failure the worker must not paper over (the batch stays uncommitted)."""


class SinkUnavailable(SinkError):
    """The server stayed unreachable or overloaded for the sink's whole retry budget.

    Retryable by definition: the worker keeps the batch and tries again later."""


class InvalidOutput(ValueError):
    """A record that is not an Output this sink can write: dead-lettered, never retried."""


@dataclass
class WriteResult:
    """What one `Sink.write` did. `rejected` are outputs the server refused for good (e.g. a
    body that breaks the mapping): the worker dead-letters them instead of stalling."""

    written: int = 0
    skipped_stale: int = 0
    retries: int = 0
    rejected: list[tuple[Output, str]] = field(default_factory=list)


class Sink(Protocol):
    """One destination. `write` returns only when every output is durable, stale or rejected;
    it raises `SinkUnavailable` when the server stays down and `SinkError` otherwise."""

    name: str

    def start(self) -> None: ...

    def validate(self, output: Output) -> None:
        """Raise InvalidOutput if the output can never be written (unknown target, bad body)."""
        ...

    def write(self, outputs: Sequence[Output]) -> WriteResult: ...

    def save_positions(self, marks: Sequence[Mark]) -> None:
        """Record in the store that everything before these marks is durable (and, for a
        store that needs it, visible): connectors.positions. Raises like `write`."""
        ...

    def elements(self, target: str) -> Iterable[str]:
        """The read-model elements (index alias, labels, relationship types) an output of
        `target` changes: what freshness is reported for."""
        ...

    def close(self) -> None: ...

    def drop(self) -> None:
        """Delete what this sink wrote under its prefix (tests, `rebuild drop`)."""
        ...


def latest_per_key(outputs: Iterable[Output]) -> list[Output]:
    """Keep only the highest version per (target, id), in order of first appearance.

    A batch often holds several folds of one hot key; writing only the newest one is what the
    version guard would leave anyway, at a fraction of the work (and a bulk request with two
    operations on one id would conflict with itself)."""
    best: dict[tuple[str, str], Output] = {}
    for o in outputs:
        key = (o.target, o.id)
        held = best.get(key)
        if held is None or o.version > held.version:
            best[key] = o
    return list(best.values())


# a sink's own budget per write: past it the worker pauses and keeps retrying the batch
SINK_RETRY = RetryPolicy(budget_s=30.0)


def rows_by_target(
    outputs: Iterable[Output],
    to_row: Mapping[str, Callable[[Output], dict[str, Any]]],
    kind: str,
    result: WriteResult,
) -> dict[str, list[dict[str, Any]]]:
    """The newest version of each output as a row of its target (a graph pattern, a table),
    grouped by target for one statement each. A body that cannot become a row is rejected
    into `result` (the worker dead-letters it); an unknown target raises (validate first)."""
    rows: dict[str, list[dict[str, Any]]] = {}
    for o in latest_per_key(outputs):
        convert = to_row.get(o.target)
        if convert is None:
            raise InvalidOutput(f"unknown {kind} {o.target!r}")
        try:
            rows.setdefault(o.target, []).append(convert(o))
        except InvalidRow as err:
            result.rejected.append((o, str(err)))
    return rows


def sink_backoff(
    attempt: Callable[[], T],
    policy: RetryPolicy,
    retryable: tuple[type[BaseException], ...],
    *,
    what: str,
    on_retry: Callable[[], None] | None = None,
) -> T:
    """`with_backoff` that gives up as SinkUnavailable: the worker keeps the batch and waits
    out the outage (it never drops what a sink could not write)."""
    return with_backoff(
        attempt, policy, retryable, what=what, on_retry=on_retry, exhausted=SinkUnavailable
    )


# ------------------------------------------------------------------ parsing and batching


def parse_output(value: bytes | None, sink: Sink) -> Output:
    """Strictly decode one record; anything short of a well-formed Output for `sink` raises.

    `Output.from_dict` coerces (int("3")); here a wrong type is a broken producer and must be
    seen in the dead-letter topic, not quietly repaired."""
    if value is None:
        raise InvalidOutput("empty value (tombstone)")
    try:
        d = orjson.loads(value)
    except orjson.JSONDecodeError as err:
        raise InvalidOutput(f"not JSON: {err}") from None
    if not isinstance(d, dict):
        raise InvalidOutput(f"expected a JSON object, got {type(d).__name__}")
    missing = [k for k in ("sink", "target", "id", "version", "body") if k not in d]
    if missing:
        raise InvalidOutput(f"missing field(s): {', '.join(missing)}")
    if d["sink"] != sink.name:
        raise InvalidOutput(f"sink {d['sink']!r} on the {sink.name!r} topic")
    if not isinstance(d["target"], str) or not isinstance(d["id"], str) or not d["id"]:
        raise InvalidOutput("target and id must be non-empty strings")
    version = d["version"]
    if not isinstance(version, int) or isinstance(version, bool) or version < 0:
        raise InvalidOutput(f"version must be a non-negative integer, got {version!r}")
    if not isinstance(d["body"], dict):
        raise InvalidOutput(f"body must be an object, got {type(d['body']).__name__}")
    output = Output(d["sink"], d["target"], d["id"], version, d["body"])
    sink.validate(output)
    return output


@dataclass(frozen=True)
class WorkerConfig:
    """Knobs of one worker. Batch defaults were chosen by measurement (see entrypoints/sinks.py)."""

    topic: str
    group_id: str
    bootstrap: str
    max_records: int = 2000
    max_wait_ms: int = 500
    dlq_topic: str = topics.dlq_topic()
    poll_batch: int = 500
    outage_backoff: RetryPolicy = RetryPolicy(initial_s=0.5, max_backoff_s=10.0, budget_s=None)
    consumer_overrides: dict[str, Any] = field(default_factory=dict)
    freshness_dir: Path | None = None  # where per-element append -> visible lags are saved
    # static group membership: a worker restarted under the same id gets its partitions back
    # at once instead of after the dead member's session times out (45 s); two live workers
    # with one id fence each other, so each worker of a sink needs its own
    instance_id: str | None = None
    # why an output may not be written (a field its contract does not release to this port:
    # pipelines.disclosure), or None: such an output is dead-lettered, never written
    guard: Callable[[Output], str | None] | None = None


@dataclass
class SinkStats:
    """Counters since start. `lag` is records behind the high watermark at the last flush."""

    consumed: int = 0
    written: int = 0
    skipped_stale: int = 0
    dead_lettered: int = 0
    retries: int = 0
    flushes: int = 0
    last_flush_ms: float = 0.0
    last_batch: int = 0
    lag: int = 0
    marks: int = 0  # position marks made durable
    last_mark: int = 0  # the highest of them (this worker's partitions only)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


class SinkWorker:
    """Consume one sink topic into one sink. Not thread-safe except for `stop()`."""

    def __init__(self, sink: Sink, config: WorkerConfig) -> None:
        self.sink = sink
        self.config = config
        self.stats = SinkStats()
        self._stop = threading.Event()
        self.signalled = False  # stopped by SIGTERM/SIGINT: the process is to end, not go on
        self._batch: list[Message] = []
        self._batch_started = 0.0
        self._consumer: Consumer | None = None
        self._producer: Producer | None = None
        self._freshness = (
            FreshnessLog(config.freshness_dir, sink.name) if config.freshness_dir else None
        )

    # -------------------------------------------------------------- lifecycle

    def stop(self) -> None:
        """Ask the loop to flush, commit and return (safe from signal handlers and threads)."""
        self._stop.set()

    def run(self, until_idle_s: float | None = None) -> SinkStats:
        """Consume until stopped (SIGTERM/SIGINT or `stop()`), or until nothing arrived for
        `until_idle_s` seconds with the batch flushed: how tests and the demo drain a topic."""
        restore = self._install_signal_handlers()
        self.sink.start()
        consumer = self._consumer = self._new_consumer()
        self._producer = clients.kafka_producer(self.config.bootstrap)
        consumer.subscribe([self.config.topic], on_revoke=self._on_revoke)
        log.info("sink %s consuming %s as %s", self.sink.name, self.config.topic,
                 self.config.group_id)  # fmt: skip
        clean = False
        try:
            last_record = time.monotonic()
            while not self._stop.is_set():
                messages = consumer.consume(self._want(), timeout=self._wait_s())
                now = time.monotonic()
                if not consumer.assignment():
                    # still joining the group: waiting for partitions is not being idle
                    last_record = now
                for msg in messages:
                    if msg.error() is not None:
                        self._on_error(msg.error())
                        continue
                    if not self._batch:
                        self._batch_started = now
                    self._batch.append(msg)
                    last_record = now
                if self._due(now):
                    self._flush()
                if (
                    until_idle_s is not None
                    and not self._batch
                    and time.monotonic() - last_record >= until_idle_s
                ):
                    break
            if self._batch:
                self._flush()
            clean = True
        finally:
            if not clean:
                log.error("sink %s stopping on an error; %d records left uncommitted for "
                          "redelivery", self.sink.name, len(self._batch))  # fmt: skip
            self._batch = []
            consumer.close()
            if self._producer is not None:
                self._producer.flush(10)
            self.sink.close()
            restore()
        return self.stats

    # -------------------------------------------------------------- the batch

    def _want(self) -> int:
        return max(1, min(self.config.poll_batch, self.config.max_records - len(self._batch)))

    def _wait_s(self) -> float:
        # librdkafka blocks signals' Python handlers while it waits: short slices keep
        # SIGTERM and stop() responsive whatever max_wait_ms is
        if not self._batch:
            return min(self.config.max_wait_ms / 1000, _MAX_BLOCK_S)
        left = self.config.max_wait_ms / 1000 - (time.monotonic() - self._batch_started)
        return max(0.0, min(left, _MAX_BLOCK_S))

    def _due(self, now: float) -> bool:
        if not self._batch:
            return False
        full = len(self._batch) >= self.config.max_records
        late = (now - self._batch_started) * 1000 >= self.config.max_wait_ms
        return full or late or self._stop.is_set()

    def _flush(self) -> None:
        """Parse, write (retrying across outages), dead-letter, then commit. In that order:
        a commit is a promise that everything up to the offset is in the read model or the
        dead-letter topic."""
        started = time.monotonic()
        batch, self._batch = self._batch, []
        outputs: list[Output] = []
        dead: list[tuple[Message, str]] = []
        by_output: dict[int, Message] = {}
        marks: list[Mark] = []
        for msg in batch:
            mark = parse_mark(msg.value())
            if mark is not None:
                marks.append(mark)
                continue
            try:
                output = parse_output(msg.value(), self.sink)
            except InvalidOutput as err:
                dead.append((msg, str(err)))
                continue
            refused = self.config.guard(output) if self.config.guard is not None else None
            if refused is not None:
                dead.append((msg, f"disclosure: {refused}"))
                continue
            by_output[id(output)] = msg
            outputs.append(output)
        result = (
            self._patiently(lambda: self.sink.write(outputs), len(outputs))
            if outputs
            else WriteResult()
        )
        for output, reason in result.rejected:
            dead.append((by_output[id(output)], f"rejected by {self.sink.name}: {reason}"))
        if dead:
            self._dead_letter(dead)
        if marks:  # after the writes: a saved mark promises everything before it
            marks = latest_marks(marks)
            self._patiently(lambda: self.sink.save_positions(marks), len(batch))
        self._commit(batch)
        if self._freshness is not None and outputs:
            self._observe_freshness(outputs, by_output)
        elapsed_ms = (time.monotonic() - started) * 1000
        s = self.stats
        s.consumed += len(batch)
        s.written += result.written
        s.skipped_stale += result.skipped_stale
        s.dead_lettered += len(dead)
        s.retries += result.retries
        s.flushes += 1
        s.last_flush_ms = elapsed_ms
        s.last_batch = len(batch)
        s.lag = self._lag()
        if marks:
            s.marks += len(marks)
            s.last_mark = max(s.last_mark, *(m.position for m in marks))
        log.info(
            "sink %s flushed %d records (%d written, %d stale, %d dead-lettered) in %.1f ms, "
            "lag %d, position %d",
            self.sink.name,
            len(batch),
            result.written,
            result.skipped_stale,
            len(dead),
            elapsed_ms,
            s.lag,
            s.last_mark,
        )

    def _observe_freshness(self, outputs: list[Output], by_output: dict[int, Message]) -> None:
        """Append -> visible per element: the batch is durable now; each record carries its
        source event's append time (see connectors.freshness)."""
        assert self._freshness is not None
        now = time.time()
        elements: dict[str, tuple[str, ...]] = {}
        for output in outputs:
            kind, ts_ms = by_output[id(output)].timestamp()
            if kind == TIMESTAMP_NOT_AVAILABLE or ts_ms <= 0:
                continue
            names = elements.get(output.target)
            if names is None:
                names = elements[output.target] = tuple(self.sink.elements(output.target))
            self._freshness.observe(names, max(0.0, now - ts_ms / 1000), now)
        try:
            self._freshness.save()
        except OSError as err:  # a metric; never fail a flush over it
            log.warning("sink %s: freshness not saved: %s", self.sink.name, err)

    def _patiently(self, call: Callable[[], T], size: int) -> T:
        """`call` (a write to the sink), retried for as long as the server is unavailable and
        we are running.

        The partitions are paused meanwhile and the consumer keeps polling, so the group does
        not evict this member (max.poll.interval.ms) and nothing new is fetched."""
        assert self._consumer is not None
        consumer = self._consumer
        delays = iter(self.config.outage_backoff.delays())
        paused: list[TopicPartition] = []
        outage_from = 0.0
        try:
            while True:
                try:
                    result = call()
                    if paused:
                        log.warning("sink %s available again after %.1f s; the kept batch of %d "
                                    "is written, catching up", self.sink.name,
                                    time.monotonic() - outage_from, size)  # fmt: skip
                    return result
                except SinkUnavailable as err:
                    if self._stop.is_set():
                        raise
                    self.stats.retries += 1  # live: an outage shows while it lasts
                    if not paused:
                        outage_from = time.monotonic()
                        paused = consumer.assignment()
                        consumer.pause(paused)
                    delay = next(delays)
                    log.error("sink %s unavailable (%s); batch of %d kept, retry in %.1f s",
                              self.sink.name, err, size, delay)  # fmt: skip
                    deadline = time.monotonic() + delay
                    while time.monotonic() < deadline and not self._stop.is_set():
                        consumer.poll(min(0.2, max(0.0, deadline - time.monotonic())))
        finally:
            if paused:
                consumer.resume(paused)

    def _dead_letter(self, dead: list[tuple[Message, str]]) -> None:
        assert self._producer is not None
        producer = self._producer
        failures: list[str] = []

        def on_delivery(err: KafkaError | None, msg: Message) -> None:
            if err is not None:
                failures.append(str(err))

        for msg, reason in dead:
            log.warning("sink %s dead-letters %s[%d]@%d: %s", self.sink.name, msg.topic(),
                        msg.partition(), msg.offset(), reason)  # fmt: skip
            value = dead_letter(
                msg.value() or b"",
                reason,
                source_topic=msg.topic() or self.config.topic,
                partition=msg.partition() or 0,
                offset=msg.offset() or 0,
                job=f"sink-{self.sink.name}",
            )
            producer.produce(
                self.config.dlq_topic,
                key=msg.key(),
                value=value,
                headers=[("reason", reason.encode()), ("sink", self.sink.name.encode())],
                on_delivery=on_delivery,
            )
        if producer.flush(30) or failures:
            # not acknowledged: we must not commit past these records
            raise SinkError(f"dead-letter publish failed: {failures[:3] or 'timeout'}")

    def _commit(self, batch: list[Message]) -> None:
        upto: dict[tuple[str, int], int] = {}
        for msg in batch:
            key = (msg.topic(), msg.partition())
            upto[key] = max(upto.get(key, -1), msg.offset())
        offsets = [TopicPartition(t, p, o + 1) for (t, p), o in upto.items()]
        assert self._consumer is not None
        try:
            self._consumer.commit(offsets=offsets, asynchronous=False)
        except KafkaException as err:
            # lost the partitions in a rebalance while writing: their next owner re-reads
            # from the last commit and the version guard skips what we already wrote
            if err.args[0].fatal():
                raise
            log.warning("sink %s: commit refused (%s); the batch will be re-delivered",
                        self.sink.name, err)  # fmt: skip

    def _lag(self) -> int:
        assert self._consumer is not None
        consumer = self._consumer
        total = 0
        try:
            for tp in consumer.position(consumer.assignment()):
                _, high = consumer.get_watermark_offsets(tp, cached=True)
                if tp.offset >= 0 and high >= 0:
                    total += max(0, high - tp.offset)
        except KafkaException:  # a metric; never fail a flush over it
            return self.stats.lag
        return total

    # -------------------------------------------------------------- callbacks

    def _on_revoke(self, consumer: Consumer, partitions: list[TopicPartition]) -> None:
        # the uncommitted batch now belongs to the partitions' next owner, who re-reads it
        # from the committed offsets; writing it here too would be harmless but slow
        if self._batch:
            log.info("sink %s: partitions revoked, %d uncommitted records left to their next "
                     "owner", self.sink.name, len(self._batch))  # fmt: skip
            self._batch = []

    def _on_error(self, err: KafkaError) -> None:
        if err.code() == KafkaError._PARTITION_EOF:
            return
        if err.fatal():
            raise KafkaException(err)
        log.warning("sink %s: kafka: %s", self.sink.name, err)

    def _new_consumer(self) -> Consumer:
        """Offsets stored and committed by the worker only, after its batch is written."""
        extra: dict[str, Any] = {"enable.auto.offset.store": False}
        if self.config.instance_id:
            extra["group.instance.id"] = self.config.instance_id
        extra.update(self.config.consumer_overrides)
        return clients.kafka_consumer(self.config.bootstrap, self.config.group_id, **extra)

    def _install_signal_handlers(self) -> Callable[[], None]:
        if threading.current_thread() is not threading.main_thread():
            return lambda: None

        def handler(signum: int, frame: FrameType | None) -> None:
            log.info("sink %s: signal %d, flushing and stopping", self.sink.name, signum)
            self.signalled = True
            self.stop()

        previous = {s: signal.signal(s, handler) for s in (signal.SIGTERM, signal.SIGINT)}

        def restore() -> None:
            for s, h in previous.items():
                signal.signal(s, h)

        return restore
