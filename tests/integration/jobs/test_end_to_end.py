"""End to end on the real servers: a hostile event log through Kafka -> Flink -> sink workers
-> Elasticsearch, Neo4j and PostgreSQL must leave read models exactly equal to the reference
projection,
and every malformed record in the dead-letter topic. Run in thread mode on a local
mini-cluster and on the standalone cluster started by `make up`, and in process mode on a
mini-cluster."""

from __future__ import annotations

import base64
import json
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from confluent_kafka import Consumer

from commerce.read.projections import PROJECTIONS
from entrypoints import bootstrap
from entrypoints import namespace as ns
from entrypoints.workload import run_direct
from hindsight.settings import Settings
from hindsight.topics import SINKS, dlq_topic, topic_name
from pipelines.reference import ReferenceProjector
from tests.integration.jobs import e2e

EVENTS = 2_500


@pytest.fixture
def space(tmp_path: Path, settings: Settings) -> Iterator[Settings]:
    s = ns.private(settings, tmp_path, "e2e")
    yield s
    ns.wipe(s)


def dead_letters(s: Settings, expected: int) -> list[dict[str, object]]:
    consumer = Consumer(
        {
            "bootstrap.servers": s.kafka_bootstrap,
            "group.id": f"t-{uuid.uuid4().hex}",
            "auto.offset.reset": "earliest",
            "isolation.level": "read_committed",
        }
    )
    consumer.subscribe([dlq_topic(s.kafka_topic_prefix)])
    out: list[dict[str, object]] = []
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and len(out) < expected:
        msg = consumer.poll(0.5)
        if msg is not None and not msg.error():
            out.append(json.loads(msg.value()))
    consumer.close()
    return out


# thread mode on a mini-cluster and on the standalone cluster, process mode (Beam's coders,
# stricter about types: a tuple where an array is declared fails there only) on a mini-cluster
@pytest.mark.parametrize("mode", ["minicluster", "standalone", "minicluster-process"])
def test_hostile_log_projects_exactly_to_the_reference(space: Settings, mode: str) -> None:
    s = space
    handler = bootstrap.command_handler(s)
    run_direct(handler, handler.domain.workload(21, EVENTS), EVENTS)
    events = handler.store.read_all(0, 10**6)
    expected = ReferenceProjector(PROJECTIONS).feed(e.to_dict() for e in events).outputs()
    want_es = e2e.expected_es(expected)
    want_graph = e2e.expected_graph(expected)
    want_rows = e2e.expected_rows(expected)
    assert want_rows  # the reference has rows for the tables
    bad = e2e.publish_hostile_log(s, events, handler.domain.data_domain_of)

    with e2e.running_job(s, mode) as alive, ns.running_sinks(s):

        def es_equal() -> tuple[bool, object]:
            got = e2e.es_documents(s)
            missing = sorted(set(want_es) - set(got))[:10]
            differ = sorted(k for k in got if k in want_es and got[k] != want_es[k])[:10]
            return got == want_es, (
                f"{len(got)}/{len(want_es)} documents; missing {missing}; differing {differ}"
            )

        try:
            e2e.wait_until(es_equal, 300, "Elasticsearch equal to the reference", alive)
        except AssertionError as short:
            got = e2e.es_documents(s)
            wrong = [k for k in want_es if got.get(k) != want_es[k]][:20]
            raise AssertionError(
                f"{short}\nsink topic for those ids: "
                f"{e2e.sink_topic_diagnosis(s, 'elasticsearch', wrong)}\n"
                f"logs: {s.home} (Flink: flink-log/ in mini-cluster mode, `make logs S=flink` "
                "on the cluster)"
            ) from None

        def graph_equal() -> tuple[bool, object]:
            got = e2e.graph_snapshot(s)
            return got == want_graph, {k: (len(got[k]), len(want_graph[k])) for k in got}

        e2e.wait_until(graph_equal, 120, "Neo4j equal to the reference", alive)

        def tables_equal() -> tuple[bool, object]:
            got = e2e.table_rows(s)
            differ = sorted(k for k in want_rows if got.get(k) != want_rows[k])[:10]
            return got == want_rows, f"{len(got)}/{len(want_rows)} rows; differing {differ}"

        e2e.wait_until(tables_equal, 120, "PostgreSQL equal to the reference", alive)

    assert e2e.es_documents(s) == want_es  # and no later write regressed anything
    assert e2e.table_rows(s) == want_rows
    for sink in SINKS:
        assert e2e.sink_topic_disorder(s, sink) == [], sink
    letters = dead_letters(s, len(bad))
    originals = {base64.b64decode(str(d["original"])) for d in letters}
    assert originals == set(bad.values())
    assert all(d["source_topic"] == topic_name("orders", s.kafka_topic_prefix) for d in letters)
    assert all(d["reason"] and isinstance(d["offset"], int) for d in letters)
