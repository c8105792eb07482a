"""Erasure that survives every replay, on the real servers (crypto-shredding).

A customer's personal data is sealed under their key in the store and on Kafka; a replay as of a
moment before ForgetCustomer shows it while the key exists, and the same replay run again after
ForgetCustomer shows none of it, in Elasticsearch or Neo4j; neither does one after it. The
store's file and every record on the event topics hold none of it in clear."""

from __future__ import annotations

import uuid

import pytest
from confluent_kafka import Consumer, TopicPartition

from commerce.read.ports import ES_CUSTOMERS
from connectors import clients
from entrypoints import bootstrap, parity, replay
from hindsight.eventstore.factory import default_sqlite_path
from hindsight.settings import Settings
from hindsight.topics import topic_name

pytestmark = pytest.mark.servers("kafka", "elasticsearch", "neo4j")

NAME, EMAIL, STREET = "Zephyrine Quistgaard", "zephyrine@quistgaard.example", "9 Quist Lane"


def _es_hits(s: Settings, name: str, text: str) -> int:
    es = clients.elasticsearch_for(s)
    try:
        prefix = replay.settings_for(s, name).es_alias_prefix
        es.indices.refresh(index=f"{prefix}*")
        query = {"multi_match": {"query": text, "fields": ["*"], "lenient": True}}
        return int(es.count(index=f"{prefix}*", query=query)["count"])
    finally:
        es.close()


def _graph_hits(s: Settings, name: str, text: str) -> int:
    labels = replay.settings_for(s, name).neo4j_label_prefix
    with clients.neo4j_for(s) as driver:
        records, _, _ = driver.execute_query(
            "MATCH (n) WHERE any(l IN labels(n) WHERE l STARTS WITH $labels) "
            "AND any(k IN keys(n) WHERE toString(n[k]) CONTAINS $text) RETURN count(n) AS n",
            labels=labels,
            text=text,
        )
    return int(records[0]["n"])


def _event_records(s: Settings) -> list[bytes]:
    """Every record (value and headers) on the deployment's event topics."""
    consumer = Consumer({"bootstrap.servers": s.kafka_bootstrap, "group.id": uuid.uuid4().hex,
                         "enable.auto.commit": False})  # fmt: skip
    out: list[bytes] = []
    try:
        handler_domain = bootstrap.load_domain(s.domain)
        for domain in handler_domain.data_domains():
            topic = topic_name(domain, s.kafka_topic_prefix)
            meta = consumer.list_topics(topic, timeout=10).topics[topic]
            for p in meta.partitions:
                tp = TopicPartition(topic, p)
                low, high = consumer.get_watermark_offsets(tp, timeout=10)
                if high <= low:
                    continue
                consumer.assign([TopicPartition(topic, p, low)])
                while True:
                    msg = consumer.poll(5)
                    assert msg is not None, f"{topic}[{p}] stopped short of {high}"
                    if msg.error():
                        continue
                    out.append((msg.value() or b"") + repr(msg.headers()).encode())
                    if msg.offset() + 1 >= high:
                        break
    finally:
        consumer.close()
    return out


def test_after_forget_customer_no_replay_shows_their_personal_data(live: Settings) -> None:
    s = live
    handler = bootstrap.command_handler(s)
    customer = f"c-{uuid.uuid4().hex[:6]}"
    where = {"city": "Aarhus", "country": "DK"}
    handler.execute_json("RegisterCustomer", {"customer_id": customer, "name": NAME,
                         "email": EMAIL, "street": STREET, **where})  # fmt: skip
    handler.execute_json("CreateProduct", {"product_id": "p-kettle", "name": "Kettle",
                         "category": "kitchen", "price_cents": 2500})  # fmt: skip
    handler.execute_json("ReceiveStock", {"product_id": "p-kettle", "quantity": 5})
    handler.execute_json("PlaceOrder", {"order_id": f"o-{customer}", "customer_id": customer,
                         "lines": [{"product_id": "p-kettle", "quantity": 1,
                                    "unit_price_cents": 2500}]})  # fmt: skip
    handler.execute_json("ChangeCustomerAddress", {"customer_id": customer,
                         "street": "10 Quist Lane", **where})  # fmt: skip
    before = handler.store.last_position()
    bootstrap.relay(s).run(until_caught_up=True)

    # while the key exists, a replay shows the name (Elasticsearch may hold it: its contract)
    moment = replay.parse_moment(str(before), s)
    assert replay.run(s, "beforekey", moment, timeout_s=600).status == replay.COMPLETE
    es = clients.elasticsearch_for(s)
    then = replay.settings_for(s, "beforekey").es_alias_prefix
    assert es.get(index=f"{then}{ES_CUSTOMERS}", id=customer)["_source"]["name"] == NAME
    es.close()
    replay.drop(s, "beforekey")

    forgotten = handler.execute_json("ForgetCustomer", {"customer_id": customer})
    assert forgotten.events
    bootstrap.relay(s).run(until_caught_up=True)
    assert handler.state("customer", customer)[0]["name"] is None

    # the same moment again, and one after the erasure: nothing of theirs anywhere
    after = replay.parse_moment(str(handler.store.last_position()), s)
    for name, at in (("beforeforget", moment), ("afterforget", after)):
        assert replay.run(s, name, at, timeout_s=600).status == replay.COMPLETE
        got = parity.read_model_parity(replay.settings_for(s, name), replay.expected_as_of(s, at))
        assert got.equal and got.checked > 0, got.examples
        for text in ("Zephyrine", "Quistgaard", "zephyrine@quistgaard.example", "Quist Lane"):
            assert _es_hits(s, name, text) == 0, (name, text)
            assert _graph_hits(s, name, text) == 0, (name, text)
    es = clients.elasticsearch_for(s)
    then = replay.settings_for(s, "beforeforget").es_alias_prefix
    doc = es.get(index=f"{then}{ES_CUSTOMERS}", id=customer)["_source"]
    assert doc["name"] is None and doc["city"] == "Aarhus"  # the customer, without their name
    es.close()

    # and in clear nowhere on disk or on the log
    path = default_sqlite_path(s)
    wal = path.with_name(path.name + "-wal")
    on_disk = path.read_bytes() + (wal.read_bytes() if wal.exists() else b"")
    records = _event_records(s)
    assert len(records) >= before  # every event (and the position marks) was read
    for text in (b"Zephyrine", b"Quistgaard", b"Quist Lane"):
        assert text not in on_disk
        assert not [r for r in records if text in r]
