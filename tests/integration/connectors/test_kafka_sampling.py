"""`hindsight contracts test` on real Kafka: sampling the latest messages of each product's
topic, and the report it makes of them. Each test owns a private topic prefix."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from confluent_kafka import Producer
from confluent_kafka.admin import AdminClient
from typer.testing import CliRunner

from commerce.read.ports import DOMAINS
from connectors.kafka_publisher import Deliveries
from connectors.kafka_sampling import sample_kafka
from connectors.kafka_topics import TopicSpec, ensure_topics
from entrypoints import bootstrap
from entrypoints.cli.contracts import contracts_app
from hindsight.events import NewEvent
from hindsight.settings import Settings, get_settings
from hindsight.topics import topic_name
from tests.unit.hindsight.contracts.scenario import envelopes

pytestmark = pytest.mark.servers("kafka")


@pytest.fixture
def prefix(settings: Settings) -> Iterator[str]:
    prefix = f"ct-{uuid.uuid4().hex[:8]}"
    admin = AdminClient({"bootstrap.servers": settings.kafka_bootstrap})
    topics = [topic_name(d, prefix) for d in DOMAINS if d != "billing"]  # billing: none yet
    ensure_topics(admin, [TopicSpec(t, 2) for t in topics])  # served before anything is produced
    yield prefix
    for future in admin.delete_topics(topics).values():
        future.result(30)


def produce(settings: Settings, topic: str, values: list[tuple[int, bytes]]) -> None:
    producer = Producer({"bootstrap.servers": settings.kafka_bootstrap, "acks": "all"})
    deliveries = Deliveries()  # checked, not assumed: an offset-less report is a failure
    for partition, value in values:
        producer.produce(topic, value=value, partition=partition, on_delivery=deliveries)
    assert producer.flush(30) == 0
    deliveries.check()


def test_sampling_takes_the_latest_messages_of_every_partition(
    settings: Settings, prefix: str
) -> None:
    topic = topic_name("orders", prefix)
    produce(settings, topic, [(0, f"m{i}".encode()) for i in range(10)])
    produce(settings, topic, [(1, f"n{i}".encode()) for i in range(5)])
    samples = sample_kafka(
        settings.kafka_bootstrap,
        {"orders": topic, "billing": topic_name("billing", prefix)},
        limit=6,
    )
    assert sorted(samples["orders"]) == [b"m7", b"m8", b"m9", b"n2", b"n3", b"n4"]
    assert samples["billing"] == []  # no topic yet: nothing sampled, no error


def test_contract_test_reports_each_product_from_its_topic(
    settings: Settings, prefix: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    by_domain: dict[str, list[tuple[int, bytes]]] = {}
    domain_of = {"customer": "customers", "product": "catalog", "stock": "inventory",
                 "order": "orders", "payment": "orders"}  # fmt: skip
    for e in envelopes():
        domain = domain_of[e["aggregate_type"]]
        if domain in ("customers", "catalog"):
            by_domain.setdefault(domain, []).append((0, json.dumps(e).encode()))
    for domain, values in by_domain.items():
        produce(settings, topic_name(domain, prefix), values)
    out = tmp_path / "quality.json"
    args = ["test", "--results", str(out), "--freshness-dir", str(tmp_path / "lags")]
    monkeypatch.setenv("HINDSIGHT_KAFKA_TOPIC_PREFIX", prefix)
    monkeypatch.setenv("HINDSIGHT_HOME", str(tmp_path))  # its own (empty) event store
    get_settings.cache_clear()
    try:
        clean = CliRunner().invoke(contracts_app, args)
        assert clean.exit_code == 0, clean.output
        report = {p["domain"]: p for p in json.loads(out.read_text())["products"]}
        assert report["customers"]["sampled"] == len(by_domain["customers"])
        assert report["catalog"]["sampled"] == len(by_domain["catalog"])
        assert report["customers"]["valid_percent"] == 100.0

        produce(settings, topic_name("customers", prefix), [(1, b"{not json")])
        broken = CliRunner().invoke(contracts_app, args)
        assert broken.exit_code == 1, broken.output
        report = {p["domain"]: p for p in json.loads(out.read_text())["products"]}
        assert report["customers"]["sampled"] == len(by_domain["customers"]) + 1
        assert report["customers"]["breaches"]

        # the store holds inventory events that never reached their topic (a dead relay)
        with bootstrap.store(get_settings()) as store:
            store.append("stock", "sku-1", 0, [NewEvent("StockReceived", {"sku": "sku-1"})])
        unseen = CliRunner().invoke(contracts_app, args)
        assert unseen.exit_code == 1, unseen.output
        report = {p["domain"]: p for p in json.loads(out.read_text())["products"]}
        assert report["inventory"]["stored"] == 1 and report["inventory"]["sampled"] == 0
        assert any("nothing sampled" in b for b in report["inventory"]["breaches"])
    finally:
        get_settings.cache_clear()
