"""How far the read models are behind the log: the reference projection of the store is what
Elasticsearch, Neo4j and PostgreSQL must hold; progress is how many documents, primary nodes
and rows already match it. A search document (and a row) matches when its content equals the
reference's (not only its version); a graph's primary node (the label its pattern MERGEs
first) when it is at the reference's version. Any domain's plug-in: projections, indices,
patterns and tables come from the settings. Progress only: the element-by-element graph
comparison (every property and every relationship) is entrypoints/parity.py, which `make demo`
runs once progress is complete, and the fault suite after every case.)"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from confluent_kafka import OFFSET_BEGINNING, KafkaError, KafkaException, TopicPartition

from connectors import clients
from connectors.postgres_sink import read_rows
from entrypoints import bootstrap
from hindsight.plugins import load
from hindsight.settings import Settings
from hindsight.topics import sink_group, sink_topic
from pipelines.model import Output
from pipelines.read_models import read_models, rows_of
from pipelines.reference import project_store

if TYPE_CHECKING:
    from pipelines.disclosure import OutputGuard


def expected_outputs(
    settings: Settings, guard: OutputGuard | None = None
) -> dict[tuple[str, str, str], Output]:
    """The reference projection of everything the store holds, by the deployment's own
    projections; with `guard`, a projection leaking PII raises here, loudly."""

    projections = [p for stage in load(settings.projections) for p in stage]
    with bootstrap.store(settings) as store:
        return project_store(store, projections, guard=guard)


def caught_up(settings: Settings, expected: dict[tuple[str, str, str], Output]) -> tuple[int, int]:
    """(matching, wanted): documents and rows equal to the reference, primary nodes at its
    version."""
    from elasticsearch.helpers import scan

    models = read_models(settings.read_models)
    want_es = {(o.target, o.id): o.body for o in expected.values() if o.sink == "elasticsearch"}
    want_graph = {(o.target, o.id): o.version for o in expected.values() if o.sink == "neo4j"}
    matching = 0
    es = clients.elasticsearch_for(settings)
    for alias in {t for t, _ in want_es} & set(models.index_specs):
        name = f"{settings.es_alias_prefix}{alias}"
        if not es.indices.exists_alias(name=name):
            continue
        for hit in scan(es, index=name, query={"query": {"match_all": {}}}):
            if want_es.get((alias, hit["_id"])) == hit["_source"]:
                matching += 1
    with clients.neo4j_for(settings) as driver:
        for target, pattern in models.graph_patterns.items():
            label = pattern.node_labels()[0]
            key = next((prop for lbl, prop in pattern.unique if lbl == label), "id")
            records, _, _ = driver.execute_query(
                f"MATCH (n:`{settings.neo4j_label_prefix}{label}`) WHERE n.version IS NOT NULL "
                f"RETURN n.`{key}` AS id, n.version AS version"
            )
            matching += sum(1 for r in records if want_graph.get((target, r["id"])) == r["version"])
    specs = models.table_specs
    want_rows = rows_of(specs, expected.values())
    conn = clients.postgres_reader(settings.postgres_dsn)
    rows = read_rows(conn, specs, settings.postgres_read_schema, settings.postgres_table_prefix)
    matching += sum(1 for k, row in rows.items() if want_rows.get(k) == row)
    return matching, len(want_es) + len(want_graph) + len(want_rows)


def summary(expected: dict[tuple[str, str, str], Any]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for sink, target, _ in expected:
        counts[f"{sink}:{target}"] = counts.get(f"{sink}:{target}", 0) + 1
    return counts


def drained(rs: Settings, sink: str, timeout_s: float = 10) -> bool:
    """No committed record of the sink's topic lies past its group's committed offsets. Read,
    not computed from offsets: a transaction's commit marker takes an offset of its own, so a
    drained group's offset can sit one below the end."""
    group = sink_group(sink, rs.kafka_topic_prefix)
    probe = clients.kafka_consumer(rs.kafka_bootstrap, f"{group}-probe",
                                   **{"enable.partition.eof": True})  # fmt: skip
    try:
        topic = sink_topic(sink, rs.kafka_topic_prefix)
        meta = probe.list_topics(topic, timeout=timeout_s).topics[topic]
        parts = [TopicPartition(topic, p) for p in meta.partitions]
        owner = clients.kafka_consumer(rs.kafka_bootstrap, group)
        try:
            committed = owner.committed(parts, timeout=timeout_s)
        finally:
            owner.close()
        start = lambda tp: tp.offset if tp.offset >= 0 else OFFSET_BEGINNING  # noqa: E731
        probe.assign([TopicPartition(topic, tp.partition, start(tp)) for tp in committed])
        at_end: set[int] = set()
        deadline = time.monotonic() + timeout_s
        while len(at_end) < len(parts) and time.monotonic() < deadline:
            msg = probe.poll(0.5)
            if msg is None:
                continue
            if msg.error() is not None:
                if msg.error().code() == KafkaError._PARTITION_EOF:
                    at_end.add(msg.partition())
                    continue
                raise KafkaException(msg.error())
            return False  # a record the group has not committed
        return len(at_end) == len(parts)
    finally:
        probe.close()
