"""The outbox relay against the real Kafka: per-key order, and a kill -9 mid-run loses nothing."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from confluent_kafka import Consumer
from confluent_kafka.admin import AdminClient
from psycopg import sql

from entrypoints import bootstrap
from entrypoints.workload import run_direct
from hindsight.events import Envelope
from hindsight.settings import Settings
from hindsight.shredding import is_sealed
from hindsight.topics import is_mark, topic_name

pytestmark = pytest.mark.servers("kafka", "postgres")


def consume_all(settings: Settings, topics: list[str], expected: set[str]) -> list[Envelope]:
    """Everything on the topics until every expected event id was seen (or a minute passed)."""
    consumer = Consumer(
        {
            "bootstrap.servers": settings.kafka_bootstrap,
            "group.id": f"t-{uuid.uuid4().hex}",
            "auto.offset.reset": "earliest",
            "enable.auto.commit": False,
        }
    )
    consumer.subscribe(topics)
    out: list[Envelope] = []
    deadline = time.monotonic() + 60
    seen: set[str] = set()
    while time.monotonic() < deadline and not expected <= seen:
        msg = consumer.poll(0.5)
        if msg is None or msg.error() or is_mark(msg.headers()):
            continue
        e = Envelope.from_json(msg.value())
        assert msg.key().decode() == e.aggregate_id
        out.append(e)
        seen.add(e.event_id)
    consumer.close()
    return out


@pytest.fixture(params=["sqlite", "postgres"])
def isolated(
    request: pytest.FixtureRequest, tmp_path: Path, settings: Settings
) -> Iterator[Settings]:
    """A fresh state dir (store, relay checkpoint), PostgreSQL schema and topics of this test
    only, removed after; every test runs on both event store backends."""
    prefix = f"test-{uuid.uuid4().hex[:8]}"
    yield settings.model_copy(
        update={
            "home": tmp_path,
            "relay_batch_size": 500,
            "kafka_topic_prefix": prefix,
            "eventstore_backend": request.param,
            "postgres_schema": prefix.replace("-", "_"),
        }
    )
    if request.param == "postgres":
        with psycopg.connect(settings.postgres_dsn, autocommit=True) as conn:
            schema = sql.Identifier(prefix.replace("-", "_"))
            conn.execute(sql.SQL("drop schema if exists {} cascade").format(schema))
    admin = AdminClient({"bootstrap.servers": settings.kafka_bootstrap})
    mine = [t for t in admin.list_topics(timeout=10).topics if t.startswith(prefix + ".")]
    if mine:
        for future in admin.delete_topics(mine).values():
            future.result(30)


def first_delivery_in_version_order(events: list[Envelope]) -> None:
    firsts: dict[tuple[str, str], list[int]] = defaultdict(list)
    for e in events:
        key = (e.aggregate_type, e.aggregate_id)
        if e.version not in firsts[key]:
            firsts[key].append(e.version)
    for key, versions in firsts.items():
        assert versions == sorted(versions), f"{key} out of order: {versions}"
        assert versions == list(range(1, len(versions) + 1)), f"{key} has gaps"


def test_appended_events_reach_kafka_in_order_per_key(isolated: Settings) -> None:
    s = isolated
    handler = bootstrap.command_handler(s)
    run_direct(handler, handler.domain.workload(11, 3000), 3000)
    stored = handler.store.read_all(0, 10**6)
    relay = bootstrap.relay(s)
    # a shared broker: start the relay's topics where they are now (other runs wrote too)
    stats = relay.run(until_caught_up=True)
    assert stats.published == len(stored)
    ids = {e.event_id for e in stored}
    topics = [topic_name(d, s.kafka_topic_prefix) for d in handler.domain.data_domains()]
    got = consume_all(s, topics, ids)
    assert {e.event_id for e in got} == ids
    first_delivery_in_version_order(got)
    # the records carry the events as stored: personal data sealed, never in clear
    by_id = {e.event_id: e for e in handler.store.stored().read_all(0, 10**6)}
    assert all(e.data == by_id[e.event_id].data for e in got)
    registered = [e for e in got if e.event_type == "CustomerRegistered"]
    assert registered and all(is_sealed(e.data["email"]) for e in registered)


def test_killing_the_relay_mid_batch_loses_nothing(isolated: Settings) -> None:
    s = isolated
    tmp_path = s.home
    handler = bootstrap.command_handler(s)
    run_direct(handler, handler.domain.workload(12, 20_000), 20_000)
    stored = handler.store.read_all(0, 10**6)
    env = {
        **os.environ,
        "HINDSIGHT_HOME": str(tmp_path),
        "HINDSIGHT_RELAY_BATCH_SIZE": "500",
        "HINDSIGHT_KAFKA_TOPIC_PREFIX": s.kafka_topic_prefix,
        "HINDSIGHT_EVENTSTORE_BACKEND": s.eventstore_backend,
        "HINDSIGHT_POSTGRES_SCHEMA": s.postgres_schema,
    }
    cmd = [sys.executable, "-m", "entrypoints.cli", "relay", "run", "--until-caught-up"]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    checkpoint = bootstrap.relay(s).checkpoint.path
    deadline = time.monotonic() + 60
    while not checkpoint.exists() and time.monotonic() < deadline:
        time.sleep(0.01)
    time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    confirmed = bootstrap.relay(s).checkpoint.load()
    assert 0 < confirmed < len(stored), "the kill should land mid-run"

    rerun = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120)
    assert rerun.returncode == 0, rerun.stderr[-2000:]
    assert bootstrap.relay(s).checkpoint.load() == stored[-1].position

    ids = {e.event_id for e in stored}
    topics = [topic_name(d, s.kafka_topic_prefix) for d in handler.domain.data_domains()]
    got = consume_all(s, topics, ids)
    assert {e.event_id for e in got} == ids  # nothing lost (duplicates allowed: at least once)
    first_delivery_in_version_order(got)
