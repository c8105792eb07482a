"""How far the read models are behind the log: the reference projection of the store is what
Elasticsearch and Neo4j must hold; progress is how many documents and primary nodes already
match it. A search document matches when its content equals the reference's body (not only
its version); a graph's primary node (the label its pattern MERGEs first) when it is at the
reference's version. Any domain's plug-in: projections, indices and patterns come from the
settings. Progress only: the element-by-element graph comparison (every property and every
relationship) is entrypoints/parity.py, which `make demo` runs once progress is complete, and
the fault suite after every case.)"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from connectors import clients
from entrypoints import bootstrap
from hindsight.plugins import load
from hindsight.settings import Settings
from pipelines.model import Output
from pipelines.read_models import read_models
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
    """(matching, wanted): documents equal to the reference, primary nodes at its version."""
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
    return matching, len(want_es) + len(want_graph)


def summary(expected: dict[tuple[str, str, str], Any]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for sink, target, _ in expected:
        counts[f"{sink}:{target}"] = counts.get(f"{sink}:{target}", 0) + 1
    return counts
