"""Support for the end-to-end test: a private namespace on the shared servers, a hostile
event log, the job in either execution mode, and read-model snapshots to compare."""

from __future__ import annotations

import json
import os
import random
import time
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

import psycopg
from confluent_kafka import Consumer, Producer, TopicPartition
from confluent_kafka.admin import AdminClient
from elasticsearch import Elasticsearch
from neo4j import GraphDatabase

from commerce.read.read_models import GRAPH_PATTERNS, INDEX_SPECS, TABLE_SPECS
from connectors.clients import producer_config
from connectors.kafka_publisher import Deliveries
from connectors.kafka_topics import TopicSpec, ensure_topics
from connectors.positions import parse_mark
from entrypoints import namespace as ns
from entrypoints.local_job import LocalJob
from hindsight.events import Envelope
from hindsight.settings import Settings
from hindsight.topics import sink_topic, topic_name
from pipelines.model import Output

REPO = Path(__file__).resolve().parents[3]


def malformed(sample: dict[str, Any]) -> dict[str, bytes]:
    """One record per kind of bad input, each a reason the validator must give."""
    missing = json.loads(json.dumps(sample))
    del missing["data"][next(iter(missing["data"]))]
    wrong = json.loads(json.dumps(sample))
    wrong["version"] = "seven"
    unknown = {**sample, "event_type": "OrderTeleported"}
    enum = json.loads(json.dumps(sample))
    return {
        "not-json": b"{this is not json",
        "missing-field": json.dumps(missing).encode(),
        "wrong-type": json.dumps(wrong).encode(),
        "unknown-event-type": json.dumps(unknown).encode(),
        "not-utf8": b"\xff\xfe\x00garbage",
        "unknown-enum": _with_bad_enum(enum),
    }


def _with_bad_enum(event: dict[str, Any]) -> bytes:
    event = dict(event)
    event["event_type"] = "OrderCancelled"
    event["data"] = {
        "order_id": event["aggregate_id"],
        "reason": "x",
        "previous_status": "teleported",
    }
    return json.dumps(event).encode()


def publish_hostile_log(
    s: Settings, events: list[Envelope], domain_of: Any, seed: int = 1
) -> dict[str, bytes]:
    """The log as Kafka would deliver it on a bad day: streams interleaved at random (each
    aggregate's own order kept, it is one partition), 15% duplicated later, bad records mixed
    in. Returns the bad records, by kind."""
    rng = random.Random(seed)
    by_stream: dict[tuple[str, str], list[Envelope]] = {}
    for e in events:
        by_stream.setdefault((e.aggregate_type, e.aggregate_id), []).append(e)
    queues = [list(v) for v in by_stream.values()]
    order: list[Envelope] = []
    while queues:
        q = rng.choice(queues)
        order.append(q.pop(0))
        if not q:
            queues.remove(q)
    dupes = rng.sample(order, k=len(order) * 15 // 100)
    for d in dupes:
        order.insert(rng.randint(order.index(d) + 1, len(order)), d)
    bad = malformed(events[-1].to_dict())
    producer = Producer(producer_config(s.kafka_bootstrap, 30.0))
    topics = {
        topic_name(d, s.kafka_topic_prefix)
        for d in map(domain_of, {e.aggregate_type for e in events})
    }
    # the relay's own topic creation: every partition answers ListOffsets before producing
    admin = AdminClient({"bootstrap.servers": s.kafka_bootstrap})
    ensure_topics(admin, [TopicSpec(t, 4) for t in sorted(topics)])
    bad_at = {rng.randint(0, len(order)) for _ in bad}
    bad_iter = iter(bad.values())
    delivered = Deliveries()  # the relay's delivery check: an offset-less report is a failure
    produced: dict[str, int] = dict.fromkeys(topics, 0)

    def produce(topic: str, value: bytes, key: bytes) -> None:
        producer.produce(topic, value, key, on_delivery=delivered)
        produced[topic] += 1
        producer.poll(0)

    for i, e in enumerate(order):
        if i in bad_at:
            raw = next(bad_iter, None)
            if raw is not None:
                produce(topic_name("orders", s.kafka_topic_prefix), raw, b"bad")
        produce(
            topic_name(domain_of(e.aggregate_type), s.kafka_topic_prefix),
            e.to_json(),
            e.aggregate_id.encode(),
        )
    for raw in bad_iter:
        produce(topic_name("orders", s.kafka_topic_prefix), raw, b"bad")
    assert producer.flush(30) == 0
    lost = delivered.failures
    assert not lost, f"{len(lost)} records not delivered: {lost[:5]}"
    # read back what the broker holds: a shortfall here is the input's, not the job's
    consumer = Consumer({"bootstrap.servers": s.kafka_bootstrap, "group.id": "e2e-count"})
    held = {
        t: sum(
            hi - lo
            for lo, hi in (
                consumer.get_watermark_offsets(TopicPartition(t, p), timeout=10) for p in range(4)
            )
        )
        for t in topics
    }
    consumer.close()
    assert held == produced, f"the input topics hold {held}, {produced} were delivered"
    return bad


def decoy_path(bin_dir: Path) -> Path:
    """A directory of `python`, `python3` and `java` that are not the project's: each leaves a
    mark and fails. Put first on PATH (and as JAVA_HOME's parent), it shows any code path
    that takes an interpreter or a JDK from the environment instead of from the project."""
    bin_dir.mkdir(parents=True, exist_ok=True)
    for name in ("python", "python3", "java"):
        tool = bin_dir / name
        tool.write_text(f"#!/bin/sh\ntouch '{bin_dir / name}.used'\nexit 97\n")
        tool.chmod(0o755)
    return bin_dir


@contextmanager
def running_job(s: Settings, mode: str) -> Iterator[Any]:
    """The projection job, on a local mini-cluster or submitted to the standalone cluster.
    Yields a check that raises if the job has died (so a broken job fails fast)."""
    env = ns.env_of(s)
    if mode.startswith("minicluster"):  # "minicluster-process": Python in Beam workers
        exec_mode = ["--exec-mode", "process"] if mode.endswith("-process") else []
        # the mini-cluster's own Flink log stays with the test (kept by pytest for post-mortems)
        (s.home / "flink-log").mkdir(exist_ok=True)
        decoys = decoy_path(s.home / "decoy-jdk" / "bin")
        local = LocalJob(s, exec_mode, s.home / "minicluster.log", env={
            "FLINK_LOG_DIR": str(s.home / "flink-log"),
            # a new machine's PATH: its first python and java are not the project's
            "PATH": f"{decoys}{os.pathsep}{env.get('PATH', '')}",
            "JAVA_HOME": str(decoys.parent),
        })  # fmt: skip

        def alive() -> None:
            used = sorted(p.name for p in decoys.glob("*.used"))
            assert not used, f"the job ran {used} from PATH instead of the project's own"
            if local.state() != "RUNNING":
                raise AssertionError(f"mini-cluster job exited: see {s.home / 'minicluster.log'}")

        try:
            yield alive
        finally:
            local.stop()
    else:
        from entrypoints.cluster_job import rest as _rest
        from entrypoints.cluster_job import submit, wait_running

        job_id = ""

        def running() -> None:
            state = _rest(s, f"/jobs/{job_id}")["state"]
            if state not in ("RUNNING", "CREATED", "RESTARTING"):
                raise AssertionError(f"job {job_id} is {state}")

        try:
            job_id = submit(s, env=s.namespace_env())  # the job's client sees the namespace
            wait_running(s, job_id)
            yield running
        finally:
            if job_id:
                _rest(s, f"/jobs/{job_id}", method="PATCH")


def es_documents(
    s: Settings, aliases: Iterable[str] = tuple(INDEX_SPECS)
) -> dict[tuple[str, str], dict[str, Any]]:
    es = Elasticsearch(s.elasticsearch_url, request_timeout=30)
    docs: dict[tuple[str, str], dict[str, Any]] = {}
    for alias in aliases:
        name = f"{s.es_alias_prefix}{alias}"
        if not es.indices.exists_alias(name=name):
            continue
        es.indices.refresh(index=name)
        for hit in _scan(es, name):
            docs[(alias, hit["_id"])] = hit["_source"]
    return docs


def _scan(es: Elasticsearch, index: str) -> Iterator[dict[str, Any]]:
    from elasticsearch.helpers import scan

    yield from scan(es, index=index, query={"query": {"match_all": {}}})


def expected_es(outputs: dict[tuple[str, str, str], Output]) -> dict[tuple[str, str], Any]:
    return {(o.target, o.id): o.body for o in outputs.values() if o.sink == "elasticsearch"}


def graph_snapshot(s: Settings) -> dict[str, set[Any]]:
    """Nodes and relationships under the test's labels, as comparable sets."""
    p = s.neo4j_label_prefix
    auth = (s.neo4j_user, s.neo4j_password)
    with GraphDatabase.driver(s.neo4j_uri, auth=auth) as d:
        nodes, _, _ = d.execute_query(
            "MATCH (n) WHERE any(l IN labels(n) WHERE l STARTS WITH $p) "
            "RETURN labels(n)[0] AS label, properties(n) AS props",
            p=p,
        )
        rels, _, _ = d.execute_query(
            "MATCH (a)-[r]->(b) WHERE any(l IN labels(a) WHERE l STARTS WITH $p) "
            "RETURN labels(a)[0] AS a, coalesce(a.id, a.name) AS ak, type(r) AS t, "
            "properties(r) AS props, labels(b)[0] AS b, coalesce(b.id, b.name) AS bk",
            p=p,
        )
    strip = len(p)
    return {
        "nodes": {(r["label"][strip:], _frozen(r["props"])) for r in nodes},
        "rels": {
            (r["a"][strip:], r["ak"], r["t"], _frozen(r["props"]), r["b"][strip:], r["bk"])
            for r in rels
        },
    }


def expected_graph(outputs: dict[tuple[str, str, str], Output]) -> dict[str, set[Any]]:
    """What the graph patterns make of the reference outputs (see pipelines/read_models.py)."""
    nodes: dict[tuple[str, str], dict[str, Any]] = {}
    rels: set[Any] = set()

    def node(label: str, key: str, **props: Any) -> None:
        nodes.setdefault(
            (label, key), {"id": key} if label not in ("City", "Category") else {"name": key}
        ).update(props)

    for o in outputs.values():
        if o.sink != "neo4j":
            continue
        row = GRAPH_PATTERNS[o.target].to_row(o)
        b = o.body
        if o.target == "customer":
            props = {k: v for k, v in row["props"].items() if v is not None}
            nodes[("Customer", o.id)] = props
            if b.get("city"):
                node("City", b["city"])
                rels.add(("Customer", o.id, "LIVES_IN", frozenset(), "City", b["city"]))
        elif o.target == "order":
            node("Order", o.id, status=b["status"], total=b["total"], version=o.version)
            node("Customer", b["customer_id"])
            rels.add(("Customer", b["customer_id"], "PLACED", frozenset(), "Order", o.id))
            for line in b["lines"]:
                node("Product", line["product_id"])
                rels.add(
                    (
                        "Order",
                        o.id,
                        "CONTAINS",
                        _frozen({"quantity": line["quantity"], "unit_price": line["unit_price"]}),
                        "Product",
                        line["product_id"],
                    )
                )
        elif o.target == "product":
            node("Product", o.id, name=b["name"], version=o.version)
            if b.get("category"):
                node("Category", b["category"])
                rels.add(("Product", o.id, "IN_CATEGORY", frozenset(), "Category", b["category"]))
    return {"nodes": {(label, _frozen(p)) for (label, _), p in nodes.items()}, "rels": rels}


def table_rows(s: Settings) -> dict[tuple[str, str], dict[str, Any]]:
    """Every row of the test's tables, read with the driver itself, times as instants."""
    rows: dict[tuple[str, str], dict[str, Any]] = {}
    with psycopg.connect(s.postgres_dsn, autocommit=True) as conn:
        for target, spec in TABLE_SPECS.items():
            name = f'"{s.postgres_read_schema}"."{s.postgres_table_prefix}{spec.name}"'
            try:
                cur = conn.execute(f"SELECT * FROM {name}")
            except psycopg.errors.UndefinedTable:
                continue
            names = [c.name for c in cur.description or ()]
            for values in cur:
                row = dict(zip(names, values, strict=True))
                rows[(target, row[spec.key])] = row
    return rows


def expected_rows(outputs: dict[tuple[str, str, str], Output]) -> dict[tuple[str, str], Any]:
    """A row per PostgreSQL output: its id under the table's key, its body, its version;
    ISO times as the instants the table holds."""
    out: dict[tuple[str, str], Any] = {}
    for o in outputs.values():
        if o.sink != "postgres":
            continue
        spec = TABLE_SPECS[o.target]
        row: dict[str, Any] = dict.fromkeys(spec.columns)
        row.update({spec.key: o.id, **o.body, "version": o.version})
        for column, sql_type in spec.columns.items():
            if sql_type == "timestamptz" and row[column] is not None:
                row[column] = datetime.fromisoformat(row[column])
        out[(o.target, o.id)] = row
    return out


def _frozen(d: dict[str, Any]) -> frozenset[tuple[str, Any]]:
    return frozenset((k, json.dumps(v, sort_keys=True)) for k, v in d.items())


def wait_until(check: Any, timeout_s: float, what: str, alive: Any = None) -> None:
    deadline = time.monotonic() + timeout_s
    last: Any = None
    while time.monotonic() < deadline:
        if alive is not None:
            alive()
        ok, last = check()
        if ok:
            return
        time.sleep(2)
    raise AssertionError(f"{what} not reached in {timeout_s:.0f} s; last: {last}")


def sink_topic_diagnosis(s: Settings, sink: str, ids: Iterable[tuple[str, str]]) -> str:
    """Where the outputs of documents the read model lacks went: in the sink topic at all
    (read_uncommitted), visible to the workers (read_committed), at which versions, and per
    partition how far each isolation level can read. Tells a job that never emitted them from
    a transaction left open (a read_committed consumer stops at the last stable offset) from
    a sink that dropped them. The job's records carry no key: match on the value."""
    wanted = {(target, id_) for target, id_ in ids}
    report: dict[str, Any] = {}
    for isolation in ("read_uncommitted", "read_committed"):
        consumer = _sink_consumer(s, sink, isolation)
        found: dict[str, list[tuple[int, int, int]]] = {}
        reached: dict[int, int] = {}
        for msg in _drain(consumer):
            reached[msg.partition()] = msg.offset()
            if parse_mark(msg.value()) is not None:
                continue
            out = json.loads(msg.value())
            if (out.get("target"), out.get("id")) in wanted:
                name = f"{out['target']}:{out['id']}"
                found.setdefault(name, []).append((msg.partition(), msg.offset(), out["version"]))
        highs = {}
        for tp in consumer.assignment():
            highs[tp.partition] = consumer.get_watermark_offsets(tp, timeout=10)[1]
        consumer.close()
        report[isolation] = {"found": found, "last_offset_read": reached, "high": highs}
    return json.dumps(report, sort_keys=True)


def sink_topic_disorder(s: Settings, sink: str) -> list[str]:
    """Documents whose changes a sink worker could meet out of order: records of one document
    on several partitions, or versions going down within one. The job writes each document's
    versions to one partition in fold order; an empty list is what the workers rely on to
    apply every record (none skipped as stale) and to time its visibility when it happens."""
    consumer = _sink_consumer(s, sink, "read_committed")
    seen: dict[tuple[str, str], tuple[int, int]] = {}  # document -> (partition, last version)
    problems: list[str] = []
    for msg in _drain(consumer):
        if parse_mark(msg.value()) is not None:
            continue  # a position mark, not a change
        out = json.loads(msg.value())
        doc, version = (out["target"], out["id"]), int(out["version"])
        partition, last = seen.get(doc, (msg.partition(), 0))
        if partition != msg.partition():
            problems.append(f"{doc}: partitions {partition} and {msg.partition()}")
        elif version < last:
            problems.append(f"{doc}: version {version} after {last} on partition {partition}")
        seen[doc] = (msg.partition(), max(version, last))
    consumer.close()
    assert seen, f"nothing read from {sink_topic(sink, s.kafka_topic_prefix)}"
    return problems[:20]


def _sink_consumer(s: Settings, sink: str, isolation: str) -> Any:
    """A fresh group on one sink topic, from its first record, at `isolation`."""
    consumer = Consumer(
        {
            "bootstrap.servers": s.kafka_bootstrap,
            "group.id": f"read-{uuid.uuid4().hex}",
            "auto.offset.reset": "earliest",
            "enable.auto.commit": False,
            "isolation.level": isolation,
        }
    )
    consumer.subscribe([sink_topic(sink, s.kafka_topic_prefix)])
    return consumer


def _drain(consumer: Any, idle_s: float = 5) -> Iterator[Any]:
    """Every record until none came for `idle_s` seconds."""
    idle = time.monotonic()
    while time.monotonic() - idle < idle_s:
        msg = consumer.poll(0.5)
        if msg is None or msg.error():
            continue
        idle = time.monotonic()
        yield msg
