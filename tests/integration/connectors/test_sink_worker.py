"""The sink worker against real Kafka and Elasticsearch: read_committed, commit-after-flush,
crash and redelivery, dead letters, SIGTERM.

Isolation: each test gets its own topic prefix (so its own sink topic and consumer group),
its own Elasticsearch alias prefix, and deletes both afterwards. Dead letters go to the
shared `hindsight.dlq`; tests read it from the offsets it had before they ran and match
on their own source topic.
"""

from __future__ import annotations

import base64
import os
import signal
import threading
import time
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
import pytest
from confluent_kafka import Consumer, Producer, TopicPartition
from confluent_kafka.admin import AdminClient

from commerce.read.read_models import INDEX_SPECS
from connectors.elasticsearch_sink import ElasticsearchSink
from connectors.freshness import SinkFreshness, freshness_dir
from connectors.kafka_publisher import Deliveries
from connectors.kafka_topics import DEAD_LETTERS, TopicSpec, ensure_topics
from connectors.positions import Mark, frontier
from connectors.sink_worker import SinkUnavailable, WriteResult
from entrypoints.sinks import build_worker
from hindsight.settings import Settings
from hindsight.topics import dlq_topic, sink_topic
from pipelines.model import Output

pytestmark = pytest.mark.servers("kafka", "elasticsearch")


@dataclass
class Env:
    settings: Settings
    topic: str
    sink: ElasticsearchSink  # for reading and clean-up; a worker closes the sink it runs

    def new_sink(self) -> ElasticsearchSink:
        url = self.settings.elasticsearch_url
        return ElasticsearchSink(url, specs=INDEX_SPECS, alias_prefix=self.sink.alias_prefix)

    def produce(
        self, outputs: Sequence[Output | tuple[bytes, bytes]], timestamp_ms: int = 0
    ) -> None:
        producer = Producer({"bootstrap.servers": self.settings.kafka_bootstrap, "acks": "all"})
        deliveries = Deliveries()  # checked, not assumed
        for o in outputs:
            key, value = o if isinstance(o, tuple) else (o.kafka_key.encode(), _value(o))
            producer.produce(
                self.topic, key=key, value=value, timestamp=timestamp_ms, on_delivery=deliveries
            )
        assert producer.flush(30) == 0
        deliveries.check()

    def committed(self) -> int:
        group = f"{self.settings.kafka_topic_prefix}-sink-elasticsearch"
        c = Consumer({"bootstrap.servers": self.settings.kafka_bootstrap, "group.id": group})
        try:
            tps = c.committed([TopicPartition(self.topic, p) for p in range(2)], timeout=10)
            return sum(max(tp.offset, 0) for tp in tps)
        finally:
            c.close()

    def docs(self) -> dict[str, tuple[int, dict[str, Any]]]:
        self.sink.wait_searchable()
        res = self.sink.client.search(
            index=self.sink.alias("products"), size=1000, version=True, query={"match_all": {}}
        )
        return {h["_id"]: (h["_version"], h["_source"]) for h in res["hits"]["hits"]}


def _value(o: Output) -> bytes:
    return orjson.dumps(o.to_dict())


def product(i: int, version: int = 1) -> Output:
    id = f"p{i}"
    body = {"product_id": id, "name": f"Mug {i}", "price": 100 * i, "version": version}
    return Output("elasticsearch", "products", id, version, body)


@pytest.fixture
def env(settings: Settings, tmp_path: Path) -> Iterator[Env]:
    prefix = f"test-{uuid.uuid4().hex[:8]}"
    # a private state dir too: the workers' freshness files must not reach the real one
    isolated = settings.model_copy(update={"kafka_topic_prefix": prefix, "home": tmp_path})
    topic = sink_topic("elasticsearch", isolated.kafka_topic_prefix)
    admin = AdminClient({"bootstrap.servers": settings.kafka_bootstrap})
    ensure_topics(admin, [TopicSpec(topic, 2)])  # served before anything is produced
    sink = ElasticsearchSink(
        settings.elasticsearch_url, specs=INDEX_SPECS, alias_prefix=f"{prefix}-"
    )
    sink.start()
    try:
        yield Env(isolated, topic, sink)
    finally:
        sink.drop()
        sink.close()
        admin.delete_topics([topic])[topic].result(30)


def worker(env: Env, sink: Any = None, **kw: Any):  # noqa: ANN201 - SinkWorker
    return build_worker("elasticsearch", env.settings, sink=sink or env.new_sink(), **kw)


class Crash(Exception):
    pass


class CrashingSink:
    """The real sink, but the process 'dies' right after (or before) its first write."""

    def __init__(self, real: ElasticsearchSink, *, after_write: bool) -> None:
        self.real, self.after_write = real, after_write
        self.name = real.name

    def start(self) -> None:
        self.real.start()

    def validate(self, output: Output) -> None:
        self.real.validate(output)

    def elements(self, target: str) -> tuple[str, ...]:
        return self.real.elements(target)

    def write(self, outputs: Sequence[Output]) -> WriteResult:
        if self.after_write:
            self.real.write(outputs)
        raise Crash

    def save_positions(self, marks: Sequence[Mark]) -> None:
        self.real.save_positions(marks)

    def close(self) -> None:
        self.real.close()


class FlakySink(CrashingSink):
    """The real sink behind a server that is down for the first `outages` writes."""

    def __init__(self, real: ElasticsearchSink, outages: int) -> None:
        super().__init__(real, after_write=False)
        self.outages = outages

    def write(self, outputs: Sequence[Output]) -> WriteResult:
        if self.outages:
            self.outages -= 1
            raise SinkUnavailable("server down (simulated)")
        return self.real.write(outputs)


def test_an_outage_keeps_the_batch_and_retries_it_until_written(env: Env) -> None:
    env.produce([product(i) for i in range(20)])
    stats = worker(env, FlakySink(env.new_sink(), outages=2)).run(until_idle_s=2)
    assert (stats.written, stats.retries) == (20, 2)
    assert len(env.docs()) == 20 and env.committed() == 20


def test_the_worker_records_append_to_visible_lag_per_read_model(env: Env) -> None:
    """Each record's timestamp is its source event's append time (the relay stamps it, Flink
    carries it): durable-at minus that is the freshness `contracts test` checks."""
    appended = time.time() - 120  # two minutes ago: the lag must show it
    env.produce([product(i) for i in range(3)], timestamp_ms=int(appended * 1000))
    env.produce([product(i) for i in range(3, 5)])  # producer time: now
    worker(env).run(until_idle_s=2)
    lags = SinkFreshness(freshness_dir(env.settings)).samples("products")
    assert len(lags) == 5
    assert sum(lag >= 120 for lag in lags) == 3
    assert sum(lag < 120 for lag in lags) == 2
    assert SinkFreshness(freshness_dir(env.settings))("products") == max(lags)
    assert SinkFreshness(freshness_dir(env.settings))("orders") is None


def test_position_marks_are_saved_in_the_store_after_the_changes_before_them(env: Env) -> None:
    """The job writes a mark of its watermark after the changes it covers, one per writer
    subtask (connectors.positions): the worker saves them in the store, never as documents,
    and the store's position is the lowest over the subtasks."""
    marks = [(b"", b'{"mark":%d,"subtask":%d,"of":2}' % (p, t)) for p, t in ((40, 0), (30, 1))]
    env.produce([product(1), product(2), marks[0], product(3), marks[1]])
    stats = worker(env).run(until_idle_s=2)
    assert (stats.written, stats.dead_lettered, stats.marks) == (3, 0, 2)
    assert sorted(env.docs()) == ["p1", "p2", "p3"]  # searchable: refreshed before saving
    saved = env.sink.positions.load()
    assert {(d.subtask, d.position) for d in saved} == {(0, 40), (1, 30)}
    assert frontier(saved) == 30
    env.produce([(b"", b'{"mark":20,"subtask":1,"of":2}')])  # an older one changes nothing
    worker(env).run(until_idle_s=2)
    assert frontier(env.sink.positions.load()) == 30


def test_worker_writes_committed_records_only(env: Env) -> None:
    producer = Producer(
        {
            "bootstrap.servers": env.settings.kafka_bootstrap,
            "transactional.id": f"{env.topic}-tx",
        }
    )
    producer.init_transactions(30)
    for outputs, commit in (([product(1), product(2)], True), ([product(3)], False),
                            ([product(4)], True)):  # fmt: skip
        producer.begin_transaction()
        for o in outputs:
            producer.produce(env.topic, key=o.kafka_key.encode(), value=_value(o))
        if commit:
            producer.commit_transaction(30)
        else:
            producer.abort_transaction(30)

    stats = worker(env).run(until_idle_s=2)

    assert sorted(env.docs()) == ["p1", "p2", "p4"]  # p3 was aborted
    assert (stats.consumed, stats.written, stats.dead_lettered) == (3, 3, 0)
    assert stats.flushes >= 1 and stats.lag == 0


def test_crash_after_write_before_commit_loses_nothing_and_redelivers_as_stale(
    env: Env,
) -> None:
    env.produce([product(i) for i in range(50)])
    w = worker(
        env, CrashingSink(env.new_sink(), after_write=True), max_records=20, max_wait_ms=5000
    )
    with pytest.raises(Crash):
        w.run(until_idle_s=2)
    assert env.committed() == 0  # the written batch was never committed
    written_before = len(env.docs())
    assert 0 < written_before <= 20

    stats = worker(env).run(until_idle_s=2)

    assert len(env.docs()) == 50
    assert stats.consumed == 50
    assert (stats.written, stats.skipped_stale) == (50 - written_before, written_before)
    assert env.committed() == 50
    assert all(version == 1 for version, _ in env.docs().values())


def test_crash_before_write_loses_nothing(env: Env) -> None:
    env.produce([product(i) for i in range(30)])
    with pytest.raises(Crash):
        worker(env, CrashingSink(env.new_sink(), after_write=False)).run(until_idle_s=2)
    assert env.committed() == 0
    stats = worker(env).run(until_idle_s=2)
    assert (stats.written, stats.skipped_stale) == (30, 0)
    assert env.committed() == 30


def test_replayed_and_older_outputs_never_regress_the_read_model(env: Env) -> None:
    env.produce([product(1, 3), product(2, 1)])
    worker(env).run(until_idle_s=2)
    env.produce([product(1, 2), product(1, 3), product(2, 1), product(2, 2)])
    stats = worker(env).run(until_idle_s=2)
    assert {k: v for k, (v, _) in env.docs().items()} == {"p1": 3, "p2": 2}
    assert (stats.written, stats.skipped_stale) == (1, 1)  # p1@2,p1@3 dedupe to p1@3: stale


def test_garbage_goes_to_the_dead_letter_topic_with_reason_and_original_bytes(
    env: Env, settings: Settings
) -> None:
    # the deployment's own dead-letter topic (its prefix), served before the worker writes
    dlq = dlq_topic(env.settings.kafka_topic_prefix)
    admin = AdminClient({"bootstrap.servers": settings.kafka_bootstrap})
    ensure_topics(admin, [TopicSpec(dlq, 1, DEAD_LETTERS)])
    start = [TopicPartition(dlq, 0, 0)]
    garbage = b"\x00not an output " + uuid.uuid4().bytes
    wrong_target = orjson.dumps({**product(8).to_dict(), "target": "nope"})
    # a projection that mapped a field the customers contract keeps from Elasticsearch
    body = {"customer_id": "c1", "name": "Ada", "email": "ada@example.com", "version": 1}
    leak = orjson.dumps(Output("elasticsearch", "customers", "c1", 1, body).to_dict())
    env.produce(
        [
            product(1),
            (b"k-garbage", garbage),
            (b"k-target", wrong_target),
            (b"k-leak", leak),
            product(2),
        ]  # fmt: skip
    )

    stats = worker(env).run(until_idle_s=2)

    assert sorted(env.docs()) == ["p1", "p2"]
    assert (stats.consumed, stats.written, stats.dead_lettered) == (5, 2, 3)
    assert env.committed() == 5
    reader = Consumer(
        {
            "bootstrap.servers": settings.kafka_bootstrap,
            "group.id": f"{env.topic}-dlq-reader",
            "enable.auto.commit": False,
        }
    )
    reader.assign(start)
    mine: dict[bytes, dict[str, Any]] = {}
    deadline = time.monotonic() + 30
    while len(mine) < 3 and time.monotonic() < deadline:
        msg = reader.poll(0.5)
        if msg is None or msg.error():
            continue
        letter = orjson.loads(msg.value())
        if letter["source_topic"] == env.topic:
            mine[msg.key()] = {**letter, "headers": dict(msg.headers() or [])}
    reader.close()
    admin.delete_topics([dlq])[dlq].result(30)
    assert set(mine) == {b"k-garbage", b"k-target", b"k-leak"}
    assert "disclosure" in mine[b"k-leak"]["reason"] and "email" in mine[b"k-leak"]["reason"]
    assert base64.b64decode(mine[b"k-garbage"]["original"]) == garbage
    assert "not JSON" in mine[b"k-garbage"]["reason"]
    assert base64.b64decode(mine[b"k-target"]["original"]) == wrong_target
    assert "unknown index alias 'nope'" in mine[b"k-target"]["reason"]
    assert mine[b"k-target"]["job"] == "sink-elasticsearch"
    assert mine[b"k-target"]["headers"]["reason"].startswith(b"unknown index alias")


def test_sigterm_flushes_the_open_batch_and_commits(env: Env) -> None:
    env.produce([product(i) for i in range(10)])
    # a batch that would wait a minute to fill: only the signal can flush it
    w = worker(env, max_records=100_000, max_wait_ms=60_000)
    timer = threading.Timer(4.0, os.kill, (os.getpid(), signal.SIGTERM))
    timer.start()
    started = time.monotonic()
    try:
        stats = w.run()
    finally:
        timer.cancel()
    assert time.monotonic() - started < 30
    assert (stats.consumed, stats.written, stats.flushes) == (10, 10, 1)
    assert env.committed() == 10
    assert signal.getsignal(signal.SIGTERM) is not None  # the previous handler is restored
