"""Do the read models hold exactly what the log says? Checked element by element, for any
domain's plug-in, against the reference projection of the event store.

Elasticsearch: every document of every index the plug-in declares, compared with the body the
reference renders. Neo4j: a graph cannot be rendered without running its patterns' Cypher, so
the expected graph is built by the same statements from the reference's final outputs, under a
private label prefix, and compared node by node and relationship by relationship. That holds
because every pattern makes the graph a function of the current outputs, not of their history
(see pipelines/read_models.py); the e2e test checks the patterns against an independent oracle.

PostgreSQL: every row of every table the plug-in declares, compared with the row its `TableSpec`
makes of the reference's output (times compared as instants, not as text).

A difference is classified the way a fault shows itself: `lost` (in the reference, not in the
store), `doubled` (in the store, not in the reference, or folded past the reference's version:
an event applied twice) and `stale` (an older version, or other content at the same version).
"""

from __future__ import annotations

import json
import uuid
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from elasticsearch.helpers import scan

from connectors import clients
from connectors.neo4j_sink import Neo4jSink
from connectors.postgres_sink import read_rows
from entrypoints import catchup
from entrypoints.sinks import output_guard
from hindsight.settings import Settings
from pipelines.model import Output
from pipelines.read_models import GraphPattern, TableSpec, read_models, rows_of

OutputKey = tuple[str, str, str]


@dataclass
class Parity:
    lost: int = 0
    doubled: int = 0
    stale: int = 0
    checked: int = 0
    examples: list[str] = field(default_factory=list)

    @property
    def equal(self) -> bool:
        return self.lost == self.doubled == self.stale == 0

    def add(self, kind: str, what: str) -> None:
        setattr(self, kind, getattr(self, kind) + 1)
        if len(self.examples) < 10:
            self.examples.append(f"{kind}: {what}")

    def __iadd__(self, other: Parity) -> Parity:
        self.lost += other.lost
        self.doubled += other.doubled
        self.stale += other.stale
        self.checked += other.checked
        self.examples = (self.examples + other.examples)[:10]
        return self


def expected_outputs(s: Settings) -> dict[OutputKey, Output]:
    """The reference projection of the store, checked by the sink workers' PII guard."""
    return catchup.expected_outputs(s, output_guard(s))


def read_model_parity(
    s: Settings, expected: Mapping[OutputKey, Output], skip: frozenset[str] = frozenset()
) -> Parity:
    """`skip`: ids of elements left out on both sides (a rebuild's check at a cut leaves out
    the subjects erased after it: their personal data is gone from the store's reading of
    the events, not yet from the read models, which the erasure itself will clear)."""
    result = es_parity(s, expected, skip)
    result += graph_parity(s, expected, skip)
    result += table_parity(s, expected, skip)
    return result


def _compare(result: Parity, want: Any, got: Any, what: str) -> None:
    """One element present on both sides."""
    if want == got:
        return
    wv = want.get("version") if isinstance(want, dict) else None
    gv = got.get("version") if isinstance(got, dict) else None
    if isinstance(wv, int) and isinstance(gv, int) and gv > wv:
        result.add("doubled", f"{what} at version {gv}, the reference at {wv}")
    else:
        result.add("stale", f"{what} at version {gv}, the reference at {wv}")


def _sides(result: Parity, want: Mapping[Any, Any], got: Mapping[Any, Any], what: str) -> None:
    result.checked += len(want)
    for key, body in want.items():
        if key not in got:
            result.add("lost", f"{what} {key}")
        else:
            _compare(result, body, got[key], f"{what} {key}")
    for key in got.keys() - want.keys():
        result.add("doubled", f"{what} {key} is not in the reference")


# ------------------------------------------------------------------------ Elasticsearch


def es_parity(
    s: Settings, expected: Mapping[OutputKey, Output], skip: frozenset[str] = frozenset()
) -> Parity:
    specs = read_models(s.read_models).index_specs
    want = {(o.target, o.id): o.body for o in expected.values()
            if o.sink == "elasticsearch" and o.id not in skip}  # fmt: skip
    got = {k: v for k, v in es_documents(s, specs).items() if k[1] not in skip}
    return compare_es(want, got)


def compare_es(want: Mapping[Any, Any], got: Mapping[Any, Any]) -> Parity:
    result = Parity()
    _sides(result, want, got, "document")
    return result


def es_documents(s: Settings, aliases: Iterable[str]) -> dict[tuple[str, str], Any]:
    es = clients.elasticsearch_for(s)
    docs: dict[tuple[str, str], Any] = {}
    for alias in aliases:
        name = f"{s.es_alias_prefix}{alias}"
        if not es.indices.exists_alias(name=name):
            continue
        es.indices.refresh(index=name)
        for hit in scan(es, index=name, query={"query": {"match_all": {}}}):
            docs[(alias, hit["_id"])] = hit["_source"]
    es.close()
    return docs


# ------------------------------------------------------------------------ PostgreSQL


def table_parity(
    s: Settings, expected: Mapping[OutputKey, Output], skip: frozenset[str] = frozenset()
) -> Parity:
    specs = read_models(s.read_models).table_specs
    want = rows_of(specs, expected.values(), skip)
    got = {k: v for k, v in table_rows(s, specs).items() if k[1] not in skip}
    result = Parity()
    _sides(result, want, got, "row")
    return result


def table_rows(s: Settings, specs: Mapping[str, TableSpec]) -> dict[tuple[str, str], Any]:
    """Every row of the deployment's tables (prefix stripped), keyed by (table, key)."""
    conn = clients.postgres_reader(s.postgres_dsn)
    return read_rows(conn, specs, s.postgres_read_schema, s.postgres_table_prefix)


# ------------------------------------------------------------------------ Neo4j


def graph_parity(
    s: Settings, expected: Mapping[OutputKey, Output], skip: frozenset[str] = frozenset()
) -> Parity:
    patterns = read_models(s.read_models).graph_patterns
    want = expected_graph(s, expected)
    got = graph_snapshot(s, patterns, s.neo4j_label_prefix)
    if skip:
        want, got = want.without(skip), got.without(skip)
    return compare_graphs(want, got)


def expected_graph(s: Settings, expected: Mapping[OutputKey, Output]) -> GraphSnapshot:
    """What the patterns make of the reference's outputs: written by the real statements under
    a private label prefix, read back, then deleted."""
    patterns = read_models(s.read_models).graph_patterns
    outputs = [o for o in expected.values() if o.sink == "neo4j"]
    scratch = f"Ref{uuid.uuid4().hex[:8]}{s.neo4j_label_prefix}"
    auth = (s.neo4j_user, s.neo4j_password)
    sink = Neo4jSink(s.neo4j_uri, auth, patterns=patterns, label_prefix=scratch)
    try:
        sink.start()
        for i in range(0, len(outputs), 2000):
            sink.write(outputs[i : i + 2000])
        return graph_snapshot(s, patterns, scratch)
    finally:
        sink.drop()
        sink.close()


def compare_graphs(want: GraphSnapshot, got: GraphSnapshot) -> Parity:
    result = Parity()
    _sides(result, want.nodes, got.nodes, "node")
    result.checked += sum(want.relationships.values())
    missing = want.relationships - got.relationships
    extra = got.relationships - want.relationships
    ends = lambda r: (r[0], r[1], r[2], r[4], r[5])  # noqa: E731 - a relationship's endpoints
    changed = {ends(r) for r in missing} & {ends(r) for r in extra}
    for r, n in missing.items():
        for _ in range(n):
            result.add("stale" if ends(r) in changed else "lost", f"relationship {r}")
    for r, n in extra.items():
        if ends(r) not in changed:
            for _ in range(n):
                result.add("doubled", f"relationship {r} is not in the reference")
    return result


@dataclass
class GraphSnapshot:
    nodes: dict[tuple[str, Any], dict[str, Any]]  # (label, key) -> properties
    relationships: Counter[tuple[Any, ...]]  # (a label, a key, type, props, b label, b key)

    def without(self, keys: frozenset[str]) -> GraphSnapshot:
        """The snapshot without the nodes of these keys and their relationships."""
        nodes = {k: v for k, v in self.nodes.items() if str(k[1]) not in keys}
        rels = Counter({r: n for r, n in self.relationships.items()
                        if str(r[1]) not in keys and str(r[5]) not in keys})  # fmt: skip
        return GraphSnapshot(nodes, rels)


def graph_snapshot(s: Settings, patterns: Mapping[str, GraphPattern], prefix: str) -> GraphSnapshot:
    """Every node under the patterns' labels (with `prefix`) and every relationship of their
    types that leaves one, as comparable values with the prefix stripped. A node is known by
    its MERGE key (the pattern's unique property), so a node written twice shows as doubled."""
    keys = {label: prop for p in patterns.values() for label, prop in p.unique}
    labels = sorted({label for p in patterns.values() for label in p.node_labels()})
    types = sorted({t for p in patterns.values() for t in p.relationship_types()})
    prefixed = [prefix + label for label in labels]
    nodes: dict[tuple[str, Any], dict[str, Any]] = {}
    rels: Counter[tuple[Any, ...]] = Counter()

    def key(label: str, props: Mapping[str, Any]) -> Any:
        prop = keys.get(label)
        return props.get(prop) if prop else _frozen(props)

    with clients.neo4j_for(s) as driver:
        for label in labels:
            records, _, _ = driver.execute_query(
                f"MATCH (n:`{prefix}{label}`) RETURN properties(n) AS props"
            )
            for r in records:
                k = (label, key(label, r["props"]))
                if k in nodes:  # the same MERGE key twice: a constraint would have refused
                    k = (label, f"{k[1]} (again: {uuid.uuid4().hex[:6]})")
                nodes[k] = dict(r["props"])
        for rel_type in types:
            records, _, _ = driver.execute_query(
                f"MATCH (a)-[r:`{rel_type}`]->(b) WHERE any(l IN labels(a) WHERE l IN $labels) "
                "RETURN [l IN labels(a) WHERE l IN $labels][0] AS a, properties(a) AS ap, "
                "properties(r) AS rp, [l IN labels(b) WHERE l IN $labels][0] AS b, "
                "properties(b) AS bp",
                labels=prefixed,
            )
            for r in records:
                a, b = r["a"][len(prefix) :], (r["b"] or "")[len(prefix) :]
                rels[(a, key(a, r["ap"]), rel_type, _frozen(r["rp"]), b, key(b, r["bp"]))] += 1
    return GraphSnapshot(nodes, rels)


def _frozen(d: Mapping[str, Any]) -> tuple[tuple[str, str], ...]:
    return tuple(sorted((k, json.dumps(v, sort_keys=True)) for k, v in d.items()))
