"""Pipeline benchmark: event store -> relay -> Kafka -> Flink job -> sink workers -> ES + Neo4j.

Run: `python -m benchmarks.bench_pipeline [--events N] [--mode standalone|minicluster]
[--exec-mode thread|process|both]`. Every run owns a private namespace on the shared servers
(topic, alias and label prefixes, like the end-to-end harness) and removes it at the end.
Figures go to `$HINDSIGHT_HOME/bench/pipeline.json`.

Why these measurements, and how:

1. Throughput. N events are written straight into a private SQLite store (run_direct) and
   published by the relay *before* the job starts, so the job and the sinks see a full log and
   run as fast as they can. Time zero is job submission; a sampler (every 0.25 s) reads the
   job's committed source offsets, the sink topics' high watermarks and the sink groups'
   committed offsets, and separately polls Elasticsearch (refresh, count + sum of `version`
   per alias) and Neo4j (count + sum of `version` per label). A read model is complete when
   every expected document is present at the version the reference projector computes: a
   sink never holds a version above the reference, so equal sums mean equal versions. Rates
   are taken from the first Output on a sink topic (the job is processing), so JVM/Python
   start-up is reported apart: "job" = N / (last change of the sink topics' high watermarks -
   first Output); "e2e" = N / (read model complete - first Output); a sink's pipelined rate =
   its outputs / (its last commit - first Output), bounded by the job's rate. A sink's own
   rate is measured afterwards by replaying its whole topic into fresh indices / labels.
2. Latency append->visible. With job and sinks caught up, commands from the same workload
   are executed at a steady rate of events/s (half the end-to-end rate the run measured):
   every tick (`--tick-ms`) the commands then due are decided and appended in one SQLite
   transaction (CommandHandler.execute_batch: what the store's group commit makes of
   concurrent callers; one command per transaction cannot reach 1,000 events/s here), while
   the relay runs in a thread (its default 0.2 s poll). The reference projector is fed each
   append's events, read back from the store, to learn which documents it changes and to
   which version; an append (all its commands) is one latency sample. A poller thread
   (every `--poll-ms`) reads every pending document in batches: ES
   real-time GET (`mget`, sees a write as soon as it is indexed), ES search (`ids` query,
   sees it only after the 1 s refresh: what a search user sees) and Neo4j (the node's
   `version`). A command is visible in a store when all its documents there reach their
   versions; its latency is the midpoint of that poll's request minus the moment the append
   committed (resolution: poll interval + request time, a few ms here).
3. Python execution mode: the throughput run once per `python.execution-mode`, each in a fresh
   namespace (the job gets `--exec-mode`). Optionally (`--checkpoint-sweep 500,5000`) latency
   with other checkpoint intervals, on a small pre-load, at half the end-to-end rate of the
   main run: the exactly-once KafkaSink commits its transaction on checkpoints, so the
   interval bounds what read_committed sinks can see.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import logging
import shutil
import signal
import statistics
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
from confluent_kafka import Consumer, KafkaException, TopicPartition
from confluent_kafka.admin import AdminClient
from elasticsearch import Elasticsearch, NotFoundError
from neo4j import Driver, GraphDatabase
from rich.console import Console
from rich.table import Table

from benchmarks.baseline import run_baseline
from benchmarks.ceilings import load_ceilings
from benchmarks.pipeline_chart import draw
from benchmarks.taskmanager_memory import TaskManagerMemory
from commerce.read.projections import PROJECTIONS
from connectors import clients
from connectors.kafka_topics import ensure_topics, job_output_topics
from connectors.sink_worker import SinkWorker, WorkerConfig
from entrypoints import bootstrap
from entrypoints import namespace as ns
from entrypoints.cluster_job import rest as _rest
from entrypoints.cluster_job import submit, wait_running
from entrypoints.figures import write
from entrypoints.local_job import LocalJob
from entrypoints.sinks import DEFAULT_BATCH, DEFAULT_MAX_WAIT_MS, build_sink
from entrypoints.workload import run_direct
from hindsight.commands import StateCache
from hindsight.events import Envelope
from hindsight.relay import OutboxRelay, topic_name
from hindsight.retry import RetryPolicy, with_backoff
from hindsight.settings import Settings, get_settings
from hindsight.topics import SINKS, sink_topic
from localstack.settings import stack_settings
from pipelines.model import Output
from pipelines.reference import ReferenceProjector

console = Console()
LABELS = {"customer": "Customer", "order": "Order", "product": "Product"}  # neo4j target -> label
SEED = 7


# ------------------------------------------------------------------------------ namespace


def namespace(settings: Settings, work: Path) -> Settings:
    """Private prefixes, as the e2e harness makes them, but named `bench-` so a leftover is
    recognisable; `home` is a scratch dir for the SQLite store, relay checkpoint and logs."""
    tag = uuid.uuid4().hex[:8]
    home = work / tag
    home.mkdir(parents=True)
    return settings.model_copy(
        update={
            "home": home,
            "kafka_topic_prefix": f"bench-{tag}",
            "es_alias_prefix": f"bench-{tag}-",
            "neo4j_label_prefix": f"B{tag}",
            "postgres_table_prefix": f"b{tag}_",
        }
    )


def groups_of(s: Settings) -> list[str]:
    p = s.kafka_topic_prefix
    return [
        f"{p}-projections",
        *(f"{p}-sink-{n}" for n in SINKS),
        *(f"{p}-replay-{n}" for n in SINKS),
    ]


def cleanup(s: Settings) -> None:
    """Indices, labels, constraints and topics (the harness's cleanup) plus our consumer
    groups, which the harness leaves behind."""
    ns.wipe(s)
    admin = AdminClient({"bootstrap.servers": s.kafka_bootstrap})
    for f in admin.delete_consumer_groups(groups_of(s), request_timeout=15).values():
        with contextlib.suppress(Exception):  # a group never created is not an error here
            f.result(30)


# ------------------------------------------------------------------------------ the job


@contextmanager
def running_job(
    s: Settings, mode: str, exec_mode: str, checkpoint_ms: int, parallelism: int | None = None
) -> Iterator[Callable[[], None]]:
    """The projection job with our execution mode, checkpoint interval and (None: the
    cluster's default) parallelism; the harness's `running_job` takes no job arguments, hence
    this variant. Yields a liveness check."""
    job_args = ["--exec-mode", exec_mode, "--checkpoint-interval-ms", str(checkpoint_ms)]
    if parallelism and mode == "minicluster":
        job_args += ["--parallelism", str(parallelism)]
    env = ns.env_of(s)
    if mode == "minicluster":
        local = LocalJob(s, job_args, s.home / "minicluster.log")

        def alive() -> None:
            if local.state() != "RUNNING":
                raise RuntimeError(f"mini-cluster job exited: {local.state()}")

        try:
            yield alive
        finally:
            local.stop()
        return

    job_id = ""

    def running() -> None:
        state = _rest(s, f"/jobs/{job_id}")["state"]
        if state not in ("RUNNING", "CREATED", "RESTARTING"):
            raise RuntimeError(f"job {job_id} is {state}")

    try:
        _wait_free_slots(s)
        hindsight_env = {k: v for k, v in env.items() if k.startswith("HINDSIGHT_")}
        job_id = submit(s, extra=job_args, env=hindsight_env, parallelism=parallelism)
        wait_running(s, job_id)
        yield running
    finally:
        if job_id:
            _rest(s, f"/jobs/{job_id}", method="PATCH")
            _wait_job_gone(s, job_id)


def _wait_free_slots(s: Settings, needed: int = 2, timeout_s: float = 60) -> None:
    """The cluster is shared: a job of someone else's holding the slots would leave ours
    waiting for resources until Flink gives up, so say so plainly (never cancel theirs)."""

    deadline = time.monotonic() + timeout_s
    while True:
        overview = _rest(s, "/overview")
        if overview["slots-available"] >= needed:
            return
        if time.monotonic() > deadline:
            others = [j["name"] for j in _rest(s, "/jobs/overview")["jobs"]
                      if j["state"] == "RUNNING"]  # fmt: skip
            raise RuntimeError(
                f"{overview['slots-available']}/{overview['slots-total']} Flink slots free "
                f"(running: {', '.join(others)}); wait for them or use --mode minicluster"
            )
        time.sleep(2)


def _wait_job_gone(s: Settings, job_id: str, timeout_s: float = 60) -> None:
    """Until the cancelled job has released its slots, so the next run gets both."""

    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if _rest(s, f"/jobs/{job_id}")["state"] in ("CANCELED", "FAILED", "FINISHED"):
            return
        time.sleep(0.5)


# ------------------------------------------------------------------------------ expectations


@dataclass
class Expected:
    """What complete read models hold: per ES alias / Neo4j label, document count and the sum
    of their versions (complete <=> both equal, as no sink holds a version above these)."""

    es: dict[str, tuple[int, int]]
    neo4j: dict[str, tuple[int, int]]
    outputs: int
    postgres: dict[str, tuple[int, int]] = field(default_factory=dict)


def expected_of(outputs: dict[tuple[str, str, str], Output]) -> Expected:
    es: dict[str, list[int]] = {}
    neo: dict[str, list[int]] = {}
    pg: dict[str, list[int]] = {}
    for o in outputs.values():
        bucket = {"elasticsearch": es, "neo4j": neo, "postgres": pg}[o.sink]
        key = LABELS[o.target] if o.sink == "neo4j" else o.target
        acc = bucket.setdefault(key, [0, 0])
        acc[0] += 1
        acc[1] += o.version
    return Expected(
        es={k: (c, v) for k, (c, v) in es.items()},
        neo4j={k: (c, v) for k, (c, v) in neo.items()},
        outputs=len(outputs),
        postgres={k: (c, v) for k, (c, v) in pg.items()},
    )


def es_state(es: Elasticsearch, s: Settings, aliases: list[str]) -> dict[str, tuple[int, int]]:
    out: dict[str, tuple[int, int]] = {}
    for alias in aliases:
        name = f"{s.es_alias_prefix}{alias}"
        try:
            es.indices.refresh(index=name)
            r = es.search(
                index=name,
                size=0,
                track_total_hits=True,
                aggs={"v": {"sum": {"field": "version"}}},
            )
        except NotFoundError:
            out[alias] = (0, 0)
            continue
        out[alias] = (int(r["hits"]["total"]["value"]), int(r["aggregations"]["v"]["value"]))
    return out


def neo4j_state(driver: Driver, s: Settings, labels: list[str]) -> dict[str, tuple[int, int]]:
    out: dict[str, tuple[int, int]] = {}
    for label in labels:
        records, _, _ = driver.execute_query(
            f"MATCH (n:`{s.neo4j_label_prefix}{label}`) WHERE n.version IS NOT NULL "
            "RETURN count(n) AS c, coalesce(sum(n.version), 0) AS v"
        )
        out[label] = (int(records[0]["c"]), int(records[0]["v"]))
    return out


def postgres_state(s: Settings, tables: list[str]) -> dict[str, tuple[int, int]]:
    conn = clients.postgres_reader(s.postgres_dsn)
    out: dict[str, tuple[int, int]] = {}
    for table in tables:
        name = f'"{s.postgres_read_schema}"."{s.postgres_table_prefix}{table}"'
        try:
            c, v = conn.execute(
                f"SELECT count(*), coalesce(sum(version), 0) FROM {name}"
            ).fetchone()
        except psycopg.errors.UndefinedTable:
            c, v = 0, 0
        out[table] = (int(c), int(v))
    return out


# ------------------------------------------------------------------------------ Kafka sampling


class KafkaProbe:
    """Offsets the throughput figures come from: the job's committed source offsets (it
    commits on checkpoints), the sink topics' high watermarks (Outputs written, committed or
    not) and the sink workers' committed offsets (after each flush)."""

    def __init__(self, s: Settings) -> None:
        self.s = s
        self.bootstrap = s.kafka_bootstrap
        self.admin = AdminClient({"bootstrap.servers": self.bootstrap})
        self.offsets = Consumer({"bootstrap.servers": self.bootstrap, "group.id": "unused"})
        self.groups: dict[str, Consumer] = {}

    def partitions(self, topic: str) -> list[TopicPartition]:
        meta = self.admin.list_topics(topic, timeout=10).topics.get(topic)
        if meta is None or meta.error is not None:
            return []
        return [TopicPartition(topic, p) for p in sorted(meta.partitions)]

    def end_offsets(self, tps: list[TopicPartition]) -> int:
        return sum(
            self.offsets.get_watermark_offsets(tp, timeout=10, cached=False)[1] for tp in tps
        )

    def committed(self, group: str, tps: list[TopicPartition]) -> int:
        if not tps:
            return 0
        consumer = self.groups.get(group)
        if consumer is None:  # never subscribes: reading a group's offsets does not join it
            consumer = Consumer({"bootstrap.servers": self.bootstrap, "group.id": group})
            self.groups[group] = consumer
        # a broker just started answers NOT_COORDINATOR until it has loaded the group
        # coordinator: a probe must wait that out, not end the measurement
        marks = with_backoff(
            lambda: consumer.committed(tps, timeout=10),
            RetryPolicy(initial_s=0.5, budget_s=60.0),
            (KafkaException,),
            what=f"committed offsets of {group}",
        )
        return sum(max(tp.offset, 0) for tp in marks)

    def committed_records(self, topic: str, timeout_s: float = 60) -> int:
        """Records a read_committed consumer sees in `topic`: the Outputs the sinks got.
        Offsets also count transaction markers and records of aborted transactions."""
        tps = self.partitions(topic)
        ends = {tp.partition: self.offsets.get_watermark_offsets(tp, timeout=10)[1] for tp in tps}
        consumer = Consumer(
            {
                "bootstrap.servers": self.bootstrap,
                "group.id": f"{self.s.kafka_topic_prefix}-count",
                "isolation.level": "read_committed",
                "enable.auto.commit": False,
            }
        )
        consumer.assign([TopicPartition(tp.topic, tp.partition, 0) for tp in tps])
        count, deadline = 0, time.monotonic() + timeout_s
        try:
            while time.monotonic() < deadline:
                count += sum(1 for m in consumer.consume(10_000, timeout=0.5) if not m.error())
                positions = consumer.position(consumer.assignment())
                if all(max(p.offset, 0) >= ends[p.partition] for p in positions):
                    break
        finally:
            consumer.close()
        return count

    def close(self) -> None:
        self.offsets.close()
        for c in self.groups.values():
            c.close()


@dataclass
class Sample:
    t: float  # seconds since the job was submitted
    job_committed: int
    sink_hwm: dict[str, int]
    sink_committed: dict[str, int]


@dataclass
class Sampler:
    """Samples the probe in a thread until stopped; the series is what the rates come from."""

    probe: KafkaProbe
    s: Settings
    event_tps: list[TopicPartition]
    t0: float
    interval_s: float = 0.25
    samples: list[Sample] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None
    _sink_tps: dict[str, list[TopicPartition]] = field(default_factory=dict)

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(30)

    def _run(self) -> None:
        p = self.s.kafka_topic_prefix
        while not self._stop.is_set():
            for name in SINKS:
                if not self._sink_tps.get(name):  # the job's KafkaSink creates the topic
                    self._sink_tps[name] = self.probe.partitions(
                        sink_topic(name, self.s.kafka_topic_prefix)
                    )
            self.samples.append(
                Sample(
                    t=time.monotonic() - self.t0,
                    job_committed=self.probe.committed(f"{p}-projections", self.event_tps),
                    sink_hwm={n: self.probe.end_offsets(self._sink_tps[n]) for n in SINKS},
                    sink_committed={
                        n: self.probe.committed(f"{p}-sink-{n}", self._sink_tps[n]) for n in SINKS
                    },
                )
            )
            self._stop.wait(self.interval_s)


def _first(samples: list[Sample], pred: Callable[[Sample], bool]) -> float | None:
    return next((x.t for x in samples if pred(x)), None)


def _last_change(samples: list[Sample], value: Callable[[Sample], int]) -> float | None:
    """When a series last moved (the sample that first showed its final value)."""
    if not samples:
        return None
    final = value(samples[-1])
    if final == 0:
        return None
    return next(x.t for x in samples if value(x) == final)


# ------------------------------------------------------------------------------ preload


@dataclass
class Loaded:
    """A namespace with its log written and published, and the reference's state after it."""

    s: Settings
    handler: Any
    commands: Iterator[tuple[str, dict[str, Any]]]
    relay: OutboxRelay
    projector: TrackingProjector
    expected: Expected
    write_s: float
    publish_s: float
    events: int
    published_offsets: int = 0  # end offsets of the event topics once the preload is published
    reference_s: float = 0.0  # the in-process reference projector over the whole preload


class TrackingProjector(ReferenceProjector):
    """The reference projector that also remembers which outputs each feed changed: the
    documents (and versions) a command must make visible."""

    def __init__(self) -> None:
        super().__init__(PROJECTIONS)
        self.changed: list[Output] = []

    def _keep(self, out: Output) -> None:
        held = self._latest.get((out.sink, out.target, out.id))
        if held is None or out.version > held.version:
            self.changed.append(out)
        super()._keep(out)


def preload(s: Settings, events: int) -> Loaded:
    handler = bootstrap.command_handler(s, "sqlite")
    commands = handler.domain.workload(SEED, max(events, 1_000))
    t = time.perf_counter()
    stats = run_direct(handler, commands, events, batch_size=500)
    write_s = time.perf_counter() - t
    relay = bootstrap.relay(s, "sqlite")
    t = time.perf_counter()
    relay.run(until_caught_up=True)
    publish_s = time.perf_counter() - t
    projector = TrackingProjector()
    history: list[Any] = []
    position = 0
    while batch := handler.store.read_all(position, 5000):
        history += (e.to_dict() for e in batch)
        position = batch[-1].position + 1
    t = time.perf_counter()  # the reference projector alone: pure Python, no I/O, one core
    projector.feed(history)
    reference_s = time.perf_counter() - t
    projector.changed.clear()
    return Loaded(
        s,
        handler,
        commands,
        relay,
        projector,
        expected_of(projector.outputs()),
        write_s,
        publish_s,
        stats.events,
        reference_s=reference_s,
    )


def event_partitions(probe: KafkaProbe, loaded: Loaded) -> list[TopicPartition]:
    domain = loaded.handler.domain
    topics = {
        topic_name(domain.data_domain_of(t), loaded.s.kafka_topic_prefix) for t in domain.aggregates
    }
    return [tp for t in sorted(topics) for tp in probe.partitions(t)]


# ------------------------------------------------------------------------------ 1. throughput


def wait_complete(
    loaded: Loaded,
    t0: float,
    alive: Callable[[], None],
    timeout_s: float,
    producing: Callable[[], bool],
    start_timeout_s: float,
) -> dict[str, float]:
    """Seconds since t0 until each read model is complete; raises on timeout, a dead job, or
    a job that has produced nothing after `start_timeout_s` (a job in a restart loop looks
    alive to the mini-cluster's process check)."""
    s, want = loaded.s, loaded.expected
    es = Elasticsearch(s.elasticsearch_url, request_timeout=30)
    done: dict[str, float] = {}
    last: dict[str, Any] = {}
    with GraphDatabase.driver(s.neo4j_uri, auth=(s.neo4j_user, s.neo4j_password)) as driver:
        while len(done) < len(SINKS):
            if time.monotonic() - t0 > timeout_s:
                raise TimeoutError(f"read models not complete in {timeout_s:.0f} s: {last}")
            alive()
            if time.monotonic() - t0 > start_timeout_s and not producing():
                raise TimeoutError(f"no Output on the sink topics after {start_timeout_s:.0f} s")
            if "elasticsearch" not in done:
                got = es_state(es, s, sorted(want.es))
                last["elasticsearch"] = got
                if got == want.es:
                    done["elasticsearch"] = time.monotonic() - t0
            if "neo4j" not in done:
                got = neo4j_state(driver, s, sorted(want.neo4j))
                last["neo4j"] = got
                if got == want.neo4j:
                    done["neo4j"] = time.monotonic() - t0
            if "postgres" not in done:
                got = postgres_state(s, sorted(want.postgres))
                last["postgres"] = got
                if got == want.postgres:
                    done["postgres"] = time.monotonic() - t0
            time.sleep(0.25)
    es.close()
    return done


def job_alone(
    loaded: Loaded, sampler: Sampler, t0: float, alive: Callable[[], None], timeout_s: float
) -> dict[str, Any]:
    """The job with no sink worker running (nothing else competes for the two cores): done
    when its committed source offsets reach the log's end; events/s from its first Output to
    the last change of the sink topics' high watermarks."""
    while not (sampler.samples and sampler.samples[-1].job_committed >= loaded.published_offsets):
        if time.monotonic() - t0 > timeout_s:
            raise TimeoutError(f"the job did not reach the log's end in {timeout_s:.0f} s")
        alive()
        time.sleep(0.25)
    sampler.stop()
    samples = sampler.samples
    first_out = _first(samples, lambda x: sum(x.sink_hwm.values()) > 0)
    last_out = _last_change(samples, lambda x: sum(x.sink_hwm.values()))
    if first_out is None or last_out is None:
        return {"error": "no Output reached the sink topics"}
    if last_out <= first_out:
        return {"error": "the sink topics filled within one sample: too few events to time"}
    return {
        "events": loaded.events,
        "first_output_s": round(first_out, 2),
        "last_output_s": round(last_out, 2),
        "job_events_per_s": round(loaded.events / (last_out - first_out), 1),
    }


def throughput_figures(
    loaded: Loaded,
    samples: list[Sample],
    done: dict[str, float],
    running_at: float | None,
    records: dict[str, int],
) -> dict[str, Any]:
    n = loaded.events
    first_out = _first(samples, lambda x: sum(x.sink_hwm.values()) > 0)
    last_out = _last_change(samples, lambda x: sum(x.sink_hwm.values()))
    job_committed = _first(samples, lambda x: x.job_committed >= loaded.published_offsets)
    if first_out is None or last_out is None:
        return {"error": "no Output reached the sink topics"}

    def per_s(count: float, since: float, until: float | None) -> float | None:
        return round(count / (until - since), 1) if until and until > since else None

    sinks: dict[str, Any] = {}
    for name in SINKS:
        outputs = samples[-1].sink_committed[name]
        last_commit = _last_change(samples, lambda x, n=name: x.sink_committed[n])  # type: ignore[misc]
        sinks[name] = {
            "offsets": outputs,
            "complete_s": round(done[name], 2),
            "last_commit_s": last_commit,
            "trails_job_s": round(done[name] - last_out, 2),
            "records": records[name],
            "pipelined_outputs_per_s": per_s(records[name], first_out, last_commit),
        }
    return {
        "events": n,
        "outputs_latest": loaded.expected.outputs,
        "job_running_s": None if running_at is None else round(running_at, 2),
        "first_output_s": round(first_out, 2),
        "last_output_s": round(last_out, 2),
        "job_offsets_committed_s": job_committed,
        "job_events_per_s": per_s(n, first_out, last_out),
        "e2e_complete_s": round(max(done.values()), 2),
        "e2e_events_per_s": per_s(n, first_out, max(done.values())),
        "e2e_events_per_s_from_submit": per_s(n, 0.0, max(done.values())),
        "per_store_events_per_s": {k: per_s(n, first_out, v) for k, v in done.items()},
        "sinks": sinks,
    }


def replay_sinks(
    s: Settings, probe: KafkaProbe, events: int, timeout_s: float = 600
) -> dict[str, Any]:
    """Each sink alone, fed its whole topic (already complete) into fresh indices / labels
    under a fresh group: the sink's own rate, not bounded by the job's; and that rate early
    and late (`growth`), as the read models it writes grow from empty to `events` of history."""
    rs = s.model_copy(
        update={
            "es_alias_prefix": f"{s.es_alias_prefix}r-",
            "neo4j_label_prefix": f"{s.neo4j_label_prefix}R",
            "postgres_table_prefix": f"{s.postgres_table_prefix}r_",
        }
    )
    out: dict[str, Any] = {}
    for name in SINKS:
        config = WorkerConfig(
            topic=sink_topic(name, s.kafka_topic_prefix),
            group_id=f"{s.kafka_topic_prefix}-replay-{name}",
            bootstrap=s.kafka_bootstrap,
            max_records=DEFAULT_BATCH[name],
            max_wait_ms=DEFAULT_MAX_WAIT_MS,
        )
        # stop on a count, not on idleness: a slow flush on a busy machine looks idle
        want = probe.committed_records(config.topic)
        worker = SinkWorker(build_sink(name, rs), config)  # type: ignore[arg-type]
        thread = threading.Thread(target=worker.run, daemon=True)
        thread.start()
        first: tuple[float, int] | None = None
        last: tuple[float, int] = (time.monotonic(), 0)
        progress: list[tuple[float, int, int]] = []  # (when, consumed, written) at each change
        deadline = time.monotonic() + timeout_s
        while thread.is_alive():
            if worker.stats.consumed >= want or time.monotonic() > deadline:
                worker.stop()
            consumed = worker.stats.consumed
            now = time.monotonic()
            if consumed and first is None:
                first = (now, consumed)  # after the first flush: group join and start-up done
            if consumed != last[1]:
                last = (now, consumed)
                progress.append((now, consumed, worker.stats.written))
            time.sleep(0.05)
        thread.join()
        stats = worker.stats
        rate = None
        if first is not None and last[0] > first[0]:
            rate = round((last[1] - first[1]) / (last[0] - first[0]), 1)
        out[name] = {
            "topic_records": want,
            "consumed": stats.consumed,
            "written": stats.written,
            "flushes": stats.flushes,
            "outputs_per_s": rate,
            "growth": growth_of(progress, want, events),
        }
    return out


GROWTH_AT_EVENTS = 20_000  # the small read model the issue compares the grown one with


def growth_of(progress: list[tuple[float, int, int]], records: int, events: int) -> dict[str, Any]:
    """A sink's rate while its read models hold the first 20k events of history and while they
    grow to all `events`: the topic's records come in the log's order, so the first
    20k/events of them are "at 20k" and as many of the last are "at N" (windows of at least two
    flushes; the first flush, which includes the group join, is left out). Records consumed
    per second is the sink's rate (the ratio); rows written per second beside it, because the
    log's mix moves along it (early on many versions of few documents, which a batch folds
    into one write; later orders, one row each)."""
    if len(progress) < 3 or events <= GROWTH_AT_EVENTS:
        return {"note": f"needs more than {GROWTH_AT_EVENTS:,} events and three flushes"}
    width = max(records * GROWTH_AT_EVENTS // events, progress[0][1] * 2)

    def rate(lo: int, hi: int, field: int = 1) -> float | None:
        a = next((p for p in progress if p[1] >= lo), None)
        b = next((p for p in progress if p[1] >= hi), progress[-1])
        if a is None or b[0] <= a[0]:
            return None
        return round((b[field] - a[field]) / (b[0] - a[0]), 1)

    start = progress[0][1]
    early, late = rate(start, start + width), rate(records - width, records)
    return {
        "window_records": width,
        "at_20k_outputs_per_s": early,
        "at_n_outputs_per_s": late,
        "ratio_n_vs_20k": round(late / early, 3) if early and late else None,
        "at_20k_written_per_s": rate(start, start + width, 2),
        "at_n_written_per_s": rate(records - width, records, 2),
    }


# ------------------------------------------------------------------------------ 2. latency


@dataclass
class Pending:
    appended: float
    want: dict[str, dict[tuple[str, str], int]]  # store -> (target, id) -> version
    seen: dict[str, float] = field(default_factory=dict)


class VisibilityPoller:
    """Reads every pending document in batches and stamps when each command became visible
    in each store (see the module docstring for the three stores and the resolution)."""

    STORES = ("es_get", "es_search", "neo4j")

    def __init__(self, s: Settings, poll_ms: int) -> None:
        self.s = s
        self.poll_s = poll_ms / 1000
        self.es = Elasticsearch(s.elasticsearch_url, request_timeout=30)
        self.driver = GraphDatabase.driver(s.neo4j_uri, auth=(s.neo4j_user, s.neo4j_password))
        self.lock = threading.Lock()
        self.pending: list[Pending] = []
        self.finished: list[Pending] = []
        self.polls = 0
        self.busy_s = 0.0  # time spent in poll cycles that had something to read
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def add(self, p: Pending) -> None:
        with self.lock:
            self.pending.append(p)

    def outstanding(self) -> int:
        with self.lock:
            return len(self.pending)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(30)
        self.driver.close()
        self.es.close()

    def _run(self) -> None:
        while not self._stop.is_set():
            with self.lock:
                todo = list(self.pending)
            if todo:
                cycle = time.monotonic()
                for store in self.STORES:
                    self._poll(store, [p for p in todo if store not in p.seen])
                self.polls += 1
                self.busy_s += time.monotonic() - cycle + self.poll_s
                with self.lock:
                    still = [p for p in self.pending if len(p.seen) < len(self.STORES)]
                    self.finished += [p for p in self.pending if len(p.seen) == len(self.STORES)]
                    self.pending = still
            self._stop.wait(self.poll_s)

    def _poll(self, store: str, todo: list[Pending]) -> None:
        sink = "neo4j" if store == "neo4j" else "elasticsearch"
        needed: dict[tuple[str, str], int] = {}
        for p in todo:
            if not p.want[sink]:  # nothing of this command in that store: not counted there
                p.seen[store] = p.appended
            for key, version in p.want[sink].items():
                needed[key] = max(needed.get(key, 0), version)
        if not needed:
            return
        started = time.monotonic()
        have = self._read(store, needed)
        at = (started + time.monotonic()) / 2
        for p in todo:
            if all(have.get(k, 0) >= v for k, v in p.want[sink].items()):
                p.seen[store] = at

    def _read(self, store: str, needed: dict[tuple[str, str], int]) -> dict[tuple[str, str], int]:
        by_target: dict[str, list[str]] = {}
        for target, doc_id in needed:
            by_target.setdefault(target, []).append(doc_id)
        have: dict[tuple[str, str], int] = {}
        for target, ids in by_target.items():
            if store == "neo4j":
                label = f"{self.s.neo4j_label_prefix}{LABELS[target]}"
                records, _, _ = self.driver.execute_query(
                    f"UNWIND $ids AS id MATCH (n:`{label}` {{id: id}}) "
                    "RETURN n.id AS id, n.version AS v",
                    ids=ids,
                )
                have.update({(target, r["id"]): int(r["v"] or 0) for r in records})
                continue
            index = f"{self.s.es_alias_prefix}{target}"
            if store == "es_get":
                r = self.es.mget(index=index, ids=ids, source=False)
                have.update(
                    {(target, d["_id"]): int(d["_version"]) for d in r["docs"] if d.get("found")}
                )
            else:
                r = self.es.search(
                    index=index,
                    query={"ids": {"values": ids}},
                    size=len(ids),
                    version=True,
                    source=False,
                )
                have.update({(target, h["_id"]): int(h["_version"]) for h in r["hits"]["hits"]})
        return have


def latency(
    loaded: Loaded, rate: float, duration_s: float, poll_ms: int, tick_ms: int = 50
) -> dict[str, Any]:
    """Commands paced at `rate` events/s for `duration_s`, appended once per tick, the relay
    in a thread; per store the append->visible percentiles over the appends that changed
    something there, and "visible": when an append is seen in search and in the graph."""
    stop = threading.Event()
    relay_thread = threading.Thread(
        target=loaded.relay.run, kwargs={"should_stop": stop.is_set}, daemon=True
    )
    poller = VisibilityPoller(loaded.s, poll_ms)
    relay_thread.start()
    poller.start()
    handler, projector = loaded.handler, loaded.projector
    issued = events = appends = 0
    per_command = 2.5  # events per command, learnt as it goes
    position = handler.store.last_position() + 1
    warm = StateCache()  # as a service keeps hot aggregates: a cold load per command was ~1 s
    started = time.monotonic()
    behind = 0.0
    try:
        while (now := time.monotonic()) - started < duration_s:
            owed = rate * (now - started) - events
            if owed <= 0:
                time.sleep(tick_ms / 1000)
                continue
            if owed > rate * tick_ms / 1000 * 2:  # more than two ticks' worth: falling behind
                behind = max(behind, owed / rate)
            count = max(1, min(500, round(owed / per_command)))
            batch = [handler.domain.parse_command(*next(loaded.commands)) for _ in range(count)]
            handler.execute_batch(batch, warm=warm)
            appended = time.monotonic()
            issued += count
            appends += 1
            envelopes: list[Envelope] = []
            while chunk := handler.store.read_all(position, 5000):
                envelopes += chunk
                position = chunk[-1].position + 1
            events += len(envelopes)
            per_command = events / issued
            projector.changed.clear()
            projector.feed(e.to_dict() for e in envelopes)
            want: dict[str, dict[tuple[str, str], int]] = {"elasticsearch": {}, "neo4j": {}}
            for o in projector.changed:
                if o.sink in want:  # the probe reads Elasticsearch and Neo4j (not the tables)
                    want[o.sink][(o.target, o.id)] = o.version
            if want["elasticsearch"] or want["neo4j"]:
                poller.add(Pending(appended, want))
        issuing_s = time.monotonic() - started
        drain_deadline = time.monotonic() + 60
        while poller.outstanding() and time.monotonic() < drain_deadline:
            time.sleep(0.1)
    finally:
        stop.set()
        poller.stop()
        relay_thread.join(30)
    out: dict[str, Any] = {
        "commands": issued,
        "appends": appends,
        "tick_ms": tick_ms,
        "events": events,
        "commands_per_s": round(issued / issuing_s, 1),
        "events_per_s": round(events / issuing_s, 1),
        "target_events_per_s": rate,
        "duration_s": duration_s,
        "max_behind_schedule_s": round(behind, 3),
        "never_visible": poller.outstanding(),
        "polls": poller.polls,
        # the real resolution: one cycle reads all three stores, often slower than poll_ms
        "poll_cycle_ms": round(poller.busy_s * 1000 / max(poller.polls, 1), 1),
        "poll_ms": poll_ms,
    }
    for store in VisibilityPoller.STORES:
        sink = "neo4j" if store == "neo4j" else "elasticsearch"
        ms = sorted(
            (p.seen[store] - p.appended) * 1000
            for p in poller.finished + poller.pending
            if store in p.seen and p.want[sink]
        )
        out[store] = percentiles(ms)
    out["visible"] = percentiles(
        sorted(
            (max(p.seen["es_search"], p.seen["neo4j"]) - p.appended) * 1000 for p in poller.finished
        )
    )
    return out


def percentiles(ms: list[float]) -> dict[str, Any]:
    if len(ms) < 2:
        return {"n": len(ms)}
    q = statistics.quantiles(ms, n=100, method="inclusive")
    return {
        "n": len(ms),
        "p50_ms": round(q[49], 1),
        "p95_ms": round(q[94], 1),
        "p99_ms": round(q[98], 1),
        "max_ms": round(ms[-1], 1),
        "min_ms": round(ms[0], 1),
    }


# ------------------------------------------------------------------------------ one run


def run_once(
    args: argparse.Namespace,
    base: Settings,
    work: Path,
    exec_mode: str,
    checkpoint_ms: int,
    *,
    events: int,
    measure_throughput: bool,
    measure_latency: bool,
    measure_ceilings: bool = False,
    parallelism: int | None = None,
    latency_rate: Callable[[], float | None] = lambda: None,
) -> dict[str, Any]:
    """A fresh namespace: preload, job + sinks, throughput, then (caught up) latency at half
    of the rate this run measured; after the job, each sink alone and the stores' ceilings."""
    cluster = stack_settings(base)
    result: dict[str, Any] = {
        "mode": args.mode,
        "taskmanagers": cluster.flink_taskmanagers,
        "slots_per_taskmanager": cluster.flink_taskmanager_slots,
        "parallelism": parallelism or cluster.flink_taskmanagers * cluster.flink_taskmanager_slots,
        "exec_mode": exec_mode,
        "checkpoint_interval_ms": checkpoint_ms,
    }
    with private_run(base, work, result) as s:
        console.print(
            f"[bold]{exec_mode} / checkpoint {checkpoint_ms} ms[/] in {s.kafka_topic_prefix}"
        )
        loaded = preload(s, events)
        result["preload"] = {
            "events": loaded.events,
            "write_events_per_s": round(loaded.events / loaded.write_s, 1),
            "publish_events_per_s": round(loaded.events / loaded.publish_s, 1),
            "reference_events_per_s": round(loaded.events / loaded.reference_s, 1),
        }
        console.print(f"  preloaded {loaded.events} events: {result['preload']}")
        final = list(loaded.projector.outputs().values())  # before latency adds its commands
        probe = KafkaProbe(s)
        memory = TaskManagerMemory(base).start() if args.mode == "standalone" else None
        t0 = time.monotonic()
        event_tps = event_partitions(probe, loaded)
        loaded.published_offsets = probe.end_offsets(event_tps)
        sampler = Sampler(probe, s, event_tps, t0)
        sampler.start()
        try:
            with contextlib.ExitStack() as stack:
                if not args.job_only:
                    # the sink workers are running before the job, as in a deployment (started
                    # beside the job they spent its first seconds importing and joining)
                    ensure_topics(probe.admin, job_output_topics(s.kafka_topic_prefix,
                                                                 s.kafka_partitions))  # fmt: skip
                    stack.enter_context(ns.running_sinks(s))
                alive = stack.enter_context(
                    running_job(s, args.mode, exec_mode, checkpoint_ms, parallelism)
                )
                running_at = time.monotonic() - t0 if args.mode == "standalone" else None
                if args.job_only:
                    result["job_alone"] = job_alone(loaded, sampler, t0, alive, args.timeout_s)
                    console.print(f"  job alone: {result['job_alone']}")
                    if memory is not None:
                        result["taskmanager_memory"] = memory.stop()
                    return result
                done = wait_complete(
                    loaded,
                    t0,
                    alive,
                    args.timeout_s,
                    lambda: any(sum(x.sink_hwm.values()) for x in sampler.samples[-1:]),
                    args.start_timeout_s,
                )
                # the job commits its source offsets only when a checkpoint completes:
                # keep sampling until it has (bounded), then the figures are final
                until = time.monotonic() + 3 * checkpoint_ms / 1000 + 2
                while time.monotonic() < until and not (
                    sampler.samples
                    and sampler.samples[-1].job_committed >= loaded.published_offsets
                ):
                    time.sleep(0.25)
                sampler.stop()
                if measure_throughput:
                    records = {
                        n: probe.committed_records(sink_topic(n, s.kafka_topic_prefix))
                        for n in SINKS
                    }
                    result["throughput"] = throughput_figures(
                        loaded, sampler.samples, done, running_at, records
                    )
                    result["timeline"] = timeline_of(sampler.samples)
                    console.print(f"  throughput: {result['throughput']}")
                if measure_latency:
                    rate = args.rate or latency_rate() or half_rate(result)
                    result["latency"] = latency(
                        loaded, rate, args.latency_s, args.poll_ms, args.tick_ms
                    )
                    console.print(f"  latency: {result['latency']}")
                alive()
            if memory is not None:  # the job has stopped: what follows runs no TaskManager
                result["taskmanager_memory"] = memory.stop()
            if measure_throughput and not args.no_replay:
                result["sink_replay"] = replay_sinks(s, probe, loaded.events)
                console.print(f"  sink replay: {result['sink_replay']}")
            if measure_ceilings:
                result["ceilings"] = load_ceilings(s, final, loaded.events)
                console.print(f"  ceilings: {result['ceilings']}")
        finally:
            sampler.stop()
            if memory is not None:
                memory.stop()
            probe.close()
    return result


def half_rate(result: dict[str, Any]) -> float:
    """Half of the maximum rate this run measured (its end-to-end events/s), the load the
    latency is measured at; a small preload that was not timed gets a modest 100 events/s."""
    e2e = (result.get("throughput") or {}).get("e2e_events_per_s")
    return round(e2e / 2, 1) if e2e else 100.0


def timeline_of(samples: list[Sample], points: int = 240) -> list[list[float]]:
    """(seconds, Outputs on the sink topics, ES committed, Neo4j committed), thinned to
    about `points` rows for the chart."""
    step = max(1, len(samples) // points)
    return [
        [round(x.t, 2), sum(x.sink_hwm.values()), *(x.sink_committed[n] for n in SINKS)]
        for x in samples[::step] + samples[-1:]
    ]


def baseline_once(args: argparse.Namespace, base: Settings, work: Path) -> dict[str, Any]:
    """A fresh namespace, the same preload, then the hand-written baseline projector (no
    Flink, no sink workers: benchmarks/baseline.py) until both stores hold the reference."""
    result: dict[str, Any] = {"exec_mode": "baseline"}
    with private_run(base, work, result) as s:
        console.print(f"[bold]baseline (one Python process, no Flink)[/] in {s.kafka_topic_prefix}")
        loaded = preload(s, args.events)
        result["preload"] = {
            "events": loaded.events,
            "reference_events_per_s": round(loaded.events / loaded.reference_s, 1),
        }
        t0 = time.monotonic()
        run = run_baseline(s, loaded.events)
        done = wait_complete(loaded, t0, lambda: None, args.timeout_s, lambda: True, 1e9)
        result["baseline"] = {**run.figures(), "complete_s": round(max(done.values()), 2)}
        result["baseline"]["e2e_events_per_s"] = round(loaded.events / max(done.values()), 1)
        console.print(f"  baseline: {result['baseline']}")
    return result


@contextmanager
def private_run(base: Settings, work: Path, result: dict[str, Any]) -> Iterator[Settings]:
    """A private namespace for one run. A failure is written into `result` and the run's logs
    are kept (the other runs go on); a run that ended well leaves no file behind."""
    s = namespace(base, work)
    result["namespace"] = s.kafka_topic_prefix
    ok = False
    try:
        yield s
        ok = True
    except Exception as err:  # noqa: BLE001 - report the failed run, keep the others
        result["error"] = f"{type(err).__name__}: {err}"
        console.print(f"  [red]failed:[/] {result['error']} (logs kept in {s.home})")
    finally:
        try:
            cleanup(s)
        except Exception as err:  # noqa: BLE001 - a leftover namespace must not end the run
            result["cleanup_error"] = f"{type(err).__name__}: {err}"
            console.print(f"  [red]cleanup failed:[/] {result['cleanup_error']}")
            ok = False
        if ok:
            shutil.rmtree(s.home, ignore_errors=True)


# ------------------------------------------------------------------------------ report


def report(results: list[dict[str, Any]]) -> None:
    t = Table(title="Throughput (rates from the first Output; start-up shown apart)")
    for col in (
        "exec mode",
        "events",
        "first output s",
        "job ev/s",
        "ES ev/s",
        "Neo4j ev/s",
        "e2e ev/s",
        "e2e s",
        "ES sink out/s (pipelined / alone)",
        "Neo4j sink out/s (pipelined / alone)",
    ):
        t.add_column(col, justify="right")
    for r in results:
        tp = r.get("throughput")
        if not tp or "error" in tp:
            if "error" in r and "latency" not in r:
                t.add_row(r["exec_mode"], "-", r["error"][:60])
            continue
        replay = r.get("sink_replay", {})
        t.add_row(
            r["exec_mode"],
            str(tp["events"]),
            str(tp["first_output_s"]),
            str(tp["job_events_per_s"]),
            str(tp["per_store_events_per_s"].get("elasticsearch")),
            str(tp["per_store_events_per_s"].get("neo4j")),
            str(tp["e2e_events_per_s"]),
            str(tp["e2e_complete_s"]),
            *(
                f"{tp['sinks'][n]['pipelined_outputs_per_s']} / "
                f"{replay.get(n, {}).get('outputs_per_s')}"
                for n in SINKS
            ),
        )
    console.print(t)
    lt = Table(title="Latency append -> visible (ms)")
    for col in ("exec mode", "checkpoint ms", "cmd/s", "store", "n", "p50", "p95", "p99", "max"):
        lt.add_column(col, justify="right")
    for r in results:
        lat = r.get("latency")
        if not lat:
            continue
        for store in VisibilityPoller.STORES:
            p = lat[store]
            lt.add_row(
                r["exec_mode"],
                str(r["checkpoint_interval_ms"]),
                str(lat["commands_per_s"]),
                store,
                str(p["n"]),
                str(p.get("p50_ms")),
                str(p.get("p95_ms")),
                str(p.get("p99_ms")),
                str(p.get("max_ms")),
            )
    console.print(lt)


def _exit_on_sigterm(signum: int, _frame: object) -> None:
    """SIGTERM as an exception: the sink workers and the job this run started are stopped by
    its `finally` blocks (they run in sessions of their own, so the signal does not reach them;
    without this a terminated run left its sink workers running)."""
    raise SystemExit(128 + signum)


def main() -> None:
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--mode", choices=("standalone", "minicluster"), default="standalone")
    parser.add_argument("--exec-mode", choices=("thread", "process", "both"), default="both")
    parser.add_argument("--checkpoint-interval-ms", type=int, default=2000)
    parser.add_argument(
        "--rate", type=float, default=0.0, help="latency: events/s (0: half the e2e rate measured)"
    )
    parser.add_argument("--latency-s", type=float, default=45.0)
    parser.add_argument("--poll-ms", type=int, default=20, help="latency: visibility poll")
    parser.add_argument("--tick-ms", type=int, default=50, help="latency: one append per tick")
    parser.add_argument(
        "--figures", default="pipeline", help="figures file name (a partial run: another name)"
    )
    parser.add_argument(
        "--latency-in",
        default="thread",
        help="exec modes (comma list) whose run also measures latency; '' for none",
    )
    parser.add_argument(
        "--checkpoint-sweep",
        default="",
        help="extra checkpoint intervals (ms, comma list) for latency on a small preload",
    )
    parser.add_argument("--sweep-events", type=int, default=2_000)
    parser.add_argument("--timeout-s", type=float, default=0.0, help="0: 900 s or 5 ms per event")
    parser.add_argument("--start-timeout-s", type=float, default=240.0)
    parser.add_argument("--no-replay", action="store_true", help="skip the sink-alone replay")
    parser.add_argument(
        "--job-only", action="store_true", help="only the job alone: no sink workers, no latency"
    )
    parser.add_argument("--no-job-alone", action="store_true", help="skip the run of the job alone")
    parser.add_argument(
        "--no-baseline", action="store_true", help="skip the hand-written baseline projector"
    )
    args = parser.parse_args()
    args.timeout_s = args.timeout_s or max(900.0, args.events * 0.005)

    # a label is absent until its first write: the completeness poll's warnings are noise
    logging.getLogger("neo4j.notifications").setLevel(logging.ERROR)
    base = get_settings()
    work = base.home / "bench" / "pipeline-work"
    work.mkdir(parents=True, exist_ok=True)
    modes = ["thread", "process"] if args.exec_mode == "both" else [args.exec_mode]
    latency_in = {m for m in args.latency_in.split(",") if m}
    alone = argparse.Namespace(**{**vars(args), "job_only": True})
    results: list[dict[str, Any]] = []  # the sweep's load is half the e2e rate measured first
    plans: list[Callable[[], dict[str, Any]]] = []
    if not (args.job_only or args.no_job_alone):
        # the job alone on one TaskManager (parallelism 1: one slot of one TaskManager), then
        # on all of them (the cluster's default parallelism): item 4f's ratio
        plans += [
            functools.partial(run_once, alone, base, work, modes[0], args.checkpoint_interval_ms,
                              events=args.events, measure_throughput=True,
                              measure_latency=False, parallelism=p)
            for p in (1, None)
        ]  # fmt: skip
    plans += [
        functools.partial(run_once, args, base, work, m, args.checkpoint_interval_ms,
                          events=args.events, measure_throughput=True,
                          measure_latency=m in latency_in,
                          measure_ceilings=m == modes[0] and not args.job_only)
        for m in modes
    ]  # fmt: skip
    if not (args.job_only or args.no_baseline):
        plans.append(functools.partial(baseline_once, args, base, work))
    plans += [
        functools.partial(run_once, args, base, work, modes[0], ms, events=args.sweep_events,
                          measure_throughput=False, measure_latency=True,
                          latency_rate=lambda: half_rate({"throughput": {
                              "e2e_events_per_s": ratios(results)["e2e_eps"]}}))
        for ms in (int(x) for x in args.checkpoint_sweep.split(",") if x)
    ]  # fmt: skip
    n = {"events": args.events, "sweep_events": args.sweep_events, "modes": modes}
    for plan in plans:
        results.append(plan())
        # after every run: a run that breaks the process later leaves what was measured
        done = {"complete": len(results) == len(plans)}
        out = write(base.home, args.figures, n, {"runs": results, **ratios(results), **done})
    report(results)
    summary = ratios(results)
    figures = Table(title="The issue's figures (ratios of this run only)")
    figures.add_column("figure")
    figures.add_column("value", justify="right")
    for key, value in summary.items():
        figures.add_row(key, str(value))
    console.print(figures)
    timeline = next((r["timeline"] for r in results if r.get("timeline")), [])
    chart = draw(out.with_suffix(".png"), summary, timeline,
                 f"make bench-pipeline: {args.events:,} events, {', '.join(modes)}")  # fmt: skip
    console.print(f"written: {chart}")


def ratios(results: list[dict[str, Any]]) -> dict[str, Any]:
    """The issue's figures from the runs of one invocation (ratios of the same run only). The
    job's rate is the job alone at the cluster's full parallelism (one slot per TaskManager),
    `job_1tm_eps` the same job at parallelism 1 (one TaskManager); the end to end and the
    latency are the first execution mode's (thread, unless only process ran)."""

    def first(pick: Callable[[dict[str, Any]], Any]) -> Any:
        return next((v for r in results if (v := pick(r)) is not None), None)

    def found(*path: str) -> Any:
        """The first run's value at `path` (nested keys)."""

        def pick(r: dict[str, Any]) -> Any:
            for key in path:
                r = r.get(key) if isinstance(r, dict) else None  # type: ignore[assignment]
            return r

        return first(pick)

    def alone_at(full: bool) -> Callable[[dict[str, Any]], Any]:
        def pick(r: dict[str, Any]) -> Any:
            if (r.get("parallelism") or 1) > 1 if full else r.get("parallelism") == 1:
                return (r.get("job_alone") or {}).get("job_events_per_s")
            return None

        return pick

    job = first(alone_at(full=True))
    job_1tm = first(alone_at(full=False))
    e2e = found("throughput", "e2e_events_per_s")
    baseline = found("baseline", "e2e_events_per_s")
    reference = found("preload", "reference_events_per_s")
    es_ceiling = found("ceilings", "elasticsearch", "events_per_s")
    neo4j_ceiling = found("ceilings", "neo4j", "events_per_s")
    ceilings = (found("ceilings", n, "events_per_s") for n in SINKS)
    slower = min((c for c in ceilings if c), default=None)
    p99 = found("latency", "visible", "p99_ms")
    rss = [m for r in results if (m := (r.get("taskmanager_memory") or {}).get("max_peak_rss_mib"))]
    growth = {n: g for n in SINKS if (g := found("sink_replay", n, "growth", "ratio_n_vs_20k"))}

    def ratio(a: float | None, b: float | None) -> float | None:
        return round(a / b, 3) if a and b else None

    return {
        "job_eps": job,
        "job_1tm_eps": job_1tm,
        "e2e_eps": e2e,
        "baseline_eps": baseline,
        "reference_eps": reference,
        "es_ceiling_eps": es_ceiling,
        "neo4j_ceiling_eps": neo4j_ceiling,
        "ratio_job_vs_reference": ratio(job, reference),
        "ratio_e2e_vs_baseline": ratio(e2e, baseline),
        "ratio_e2e_vs_ceiling": ratio(e2e, slower),
        "ratio_2tm_vs_1tm": ratio(job, job_1tm),
        "ratio_sink_n_vs_20k": growth,
        "p99_visible_s": round(p99 / 1000, 2) if p99 else None,
        "latency_events_per_s": found("latency", "events_per_s"),
        "taskmanager_peak_rss_mib": max(rss, default=None),
        "taskmanager_process_size_mib": found("taskmanager_memory", "process_size_mib"),
    }


if __name__ == "__main__":
    main()
