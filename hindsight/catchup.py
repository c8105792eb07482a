"""How far the read models are behind the log: the reference projection of the store is what
Elasticsearch and Neo4j must hold; progress is how many documents and nodes already match it
at their final version."""

from __future__ import annotations

from typing import Any

from hindsight.settings import Settings
from pipelines.model import Output


def expected_outputs(settings: Settings) -> dict[tuple[str, str, str], Output]:
    from hindsight import bootstrap
    from pipelines.commerce_projections import PROJECTIONS
    from pipelines.reference import project_store

    with bootstrap.store(settings) as store:
        return project_store(store, PROJECTIONS)


def caught_up(settings: Settings, expected: dict[tuple[str, str, str], Output]) -> tuple[int, int]:
    """(matching, wanted): documents and primary nodes at the version the reference expects."""
    from elasticsearch import Elasticsearch
    from elasticsearch.helpers import scan
    from neo4j import GraphDatabase

    want_es = {(o.target, o.id): o.version for o in expected.values() if o.sink == "elasticsearch"}
    want_graph = {(o.target, o.id): o.version for o in expected.values() if o.sink == "neo4j"}
    matching = 0
    es = Elasticsearch(settings.elasticsearch_url, request_timeout=30)
    for alias in {t for t, _ in want_es}:
        name = f"{settings.es_alias_prefix}{alias}"
        if not es.indices.exists_alias(name=name):
            continue
        for hit in scan(es, index=name, _source=["version"], query={"query": {"match_all": {}}}):
            if want_es.get((alias, hit["_id"])) == hit["_source"].get("version"):
                matching += 1
    labels = {"customer": "Customer", "order": "Order", "product": "Product"}
    auth = (settings.neo4j_user, settings.neo4j_password)
    with GraphDatabase.driver(settings.neo4j_uri, auth=auth) as driver:
        for target, label in labels.items():
            records, _, _ = driver.execute_query(
                f"MATCH (n:{settings.neo4j_label_prefix}{label}) WHERE n.version IS NOT NULL "
                "RETURN n.id AS id, n.version AS version"
            )
            matching += sum(1 for r in records if want_graph.get((target, r["id"])) == r["version"])
    return matching, len(want_es) + len(want_graph)


def summary(expected: dict[tuple[str, str, str], Any]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for sink, target, _ in expected:
        counts[f"{sink}:{target}"] = counts.get(f"{sink}:{target}", 0) + 1
    return counts
