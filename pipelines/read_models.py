"""Read models as data, so the Elasticsearch and Neo4j sinks stay generic, for any domain.

A sink knows how to batch, retry and guard versions; what an index looks like or which graph
a change touches is a domain's read-model plug-in (`INDEX_SPECS`, `GRAPH_PATTERNS`, `PORTS`;
`commerce.read.read_models` and `examples.library` are two), loaded by `read_models(spec)`.
Adding a read model is adding an entry there (and its port), not a new sink.

Elasticsearch: one `IndexSpec` per alias. Mappings are explicit and `dynamic: strict`, so a
body that drifts from the contract is rejected at the door (and dead-lettered by the sink)
instead of silently growing the mapping.

PostgreSQL: one `TableSpec` per Output target: a table whose columns are the body's fields
(typed), keyed by the Output's id, written by ONE version-guarded upsert per batch (`INSERT ...
ON CONFLICT (key) DO UPDATE ... WHERE t.version < excluded.version`), with the indexes the list
queries a UI pages through need. A field the body stops sending becomes NULL: the row is
replaced by exactly this output, as a document or a node is.

Neo4j: one `GraphPattern` per Output target, with ONE statement run as `UNWIND $rows AS row`
per batch. Every statement MERGEs its primary node and continues only where that node's
`version` is null (never written by its own pattern) or older than the row, so replays and
duplicates are no-ops. Labels are written bare in the templates and prefixed on render
(`relabel`), so tests and second deployments run the real statements on private labels.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from typing import Any

from hindsight.contracts.ports import Port
from hindsight.plugins import load
from pipelines.model import Output

# --------------------------------------------------------------------------- Elasticsearch


@dataclass(frozen=True)
class IndexSpec:
    """One search read model: the alias queries use and the index created behind it."""

    alias: str
    properties: dict[str, Any]
    shards: int = 1
    replicas: int = 0
    dynamic: str = "strict"
    meta: dict[str, Any] = field(default_factory=dict)  # the mapping's `_meta` (e.g. a model id)

    def alias_name(self, prefix: str = "") -> str:
        return f"{prefix}{self.alias}"

    def index_name(self, generation: int, prefix: str = "") -> str:
        """`<prefix><alias>-<generation>`; the prefix lets tests own private copies. A plug-in
        alias is checked against its module's PORTS on load (`read_models`), not here."""
        return f"{prefix}{self.alias}-{generation}"

    @property
    def vector_fields(self) -> tuple[str, ...]:
        return tuple(k for k, v in self.properties.items() if v.get("type") == "dense_vector")

    def create_body(self) -> dict[str, Any]:
        index: dict[str, Any] = {
            "number_of_shards": self.shards,
            "number_of_replicas": self.replicas,
        }
        if self.vector_fields:
            # Elasticsearch 9 leaves vectors out of `_source` by default and rebuilds them
            # from float32 on request: not the numbers the projection rendered, so parity
            # with the reference could not be exact. Kept as written; queries exclude them.
            index["mapping"] = {"exclude_source_vectors": False}
        mappings: dict[str, Any] = {"dynamic": self.dynamic, "properties": self.properties}
        if self.meta:
            mappings["_meta"] = self.meta
        return {"settings": {"index": index}, "mappings": mappings}


# --------------------------------------------------------------------------- Neo4j

# a node `(x:Label` or a relationship `[x:TYPE` in a pattern (not a map's `{key: value}`);
# a second label `(n:A:B)` is not used by any pattern
_ELEMENT = re.compile(r"[(\[]\w*:(\w+)")
_NODE = re.compile(r"\((\w*):(\w+)")
_RELATIONSHIP = re.compile(r"\[\w*:(\w+)")


def relabel(cypher: str, prefix: str) -> str:
    """Prefix every node label of a statement (relationship types are left alone)."""
    return _NODE.sub(lambda m: f"({m[1]}:{prefix}{m[2]}", cypher) if prefix else cypher


class InvalidRow(ValueError):
    """An Output whose body cannot become a row of its pattern (dead-lettered, not retried)."""


def require(body: Mapping[str, Any], key: str, *types: type) -> Any:
    value = body.get(key)
    if value is None or not isinstance(value, types) or isinstance(value, bool):
        raise InvalidRow(f"body.{key}: expected {'/'.join(t.__name__ for t in types)}")
    return value


def optional(body: Mapping[str, Any], key: str, *types: type) -> Any:
    value = body.get(key)
    if value is not None and (not isinstance(value, types) or isinstance(value, bool)):
        raise InvalidRow(f"body.{key}: expected {'/'.join(t.__name__ for t in types)} or null")
    return value


@dataclass(frozen=True)
class GraphPattern:
    """One graph read model: how an Output of `target` becomes a row, and the statement for
    a whole batch of rows. `cypher` returns `count(*) AS applied`, the rows that passed the
    version guard, so the sink can report how many were stale."""

    target: str
    cypher: str
    to_row: Callable[[Output], dict[str, Any]]
    # (label, property) pairs that must be unique; MERGE is only safe and fast with them
    unique: tuple[tuple[str, str], ...] = field(default=())

    def statement(self, label_prefix: str = "") -> str:
        return relabel(self.cypher, label_prefix)

    def elements(self) -> tuple[str, ...]:
        """The labels and relationship types the statement touches, as the contracts name
        them (unprefixed): what a write of this pattern makes fresh."""
        return tuple(dict.fromkeys(_ELEMENT.findall(self.cypher)))

    def node_labels(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(label for _, label in _NODE.findall(self.cypher)))

    def relationship_types(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(_RELATIONSHIP.findall(self.cypher)))

    def constraint_statements(self, label_prefix: str = "") -> list[str]:
        return [
            f"CREATE CONSTRAINT {_constraint(label_prefix, label, prop)} IF NOT EXISTS "
            f"FOR (n:{label_prefix}{label}) REQUIRE n.{prop} IS UNIQUE"
            for label, prop in self.unique
        ]

    def drop_constraint_statements(self, label_prefix: str = "") -> list[str]:
        return [
            f"DROP CONSTRAINT {_constraint(label_prefix, label, prop)} IF EXISTS"
            for label, prop in self.unique
        ]


def _constraint(prefix: str, label: str, prop: str) -> str:
    return f"{prefix}{label}_{prop}_unique".lower()


# --------------------------------------------------------------------------- PostgreSQL

# the SQL types a column may have, and what a body's value must be for each (a bool is not an int)
_SQL_TYPES: dict[str, tuple[type, ...]] = {
    "text": (str,),
    "bigint": (int,),
    "integer": (int,),
    "boolean": (bool,),
    "double precision": (int, float),
    "timestamptz": (str,),  # ISO 8601, as the events carry time
}
_IDENTIFIER = re.compile(r"^[a-z][a-z0-9_]*$")


@dataclass(frozen=True)
class TableSpec:
    """One SQL read model: the table `name` (prefixed per deployment and generation), its
    `key` column (the Output's id), its typed `columns` (the body's fields; `version` is
    added), and `indexes`: each a tuple of columns, `col DESC` allowed, that some list query
    pages through (keyset pagination needs its sort order in an index)."""

    name: str
    key: str
    columns: dict[str, str]
    indexes: tuple[tuple[str, ...], ...] = ()

    def __post_init__(self) -> None:
        for column, sql_type in {self.key: "text", **self.columns}.items():
            if not _IDENTIFIER.match(column):
                raise ValueError(f"{self.name}: column {column!r} is not snake_case")
            if sql_type not in _SQL_TYPES:
                raise ValueError(
                    f"{self.name}.{column}: type {sql_type!r} not in {sorted(_SQL_TYPES)}"
                )
        for index in self.indexes:
            for part in index:
                if part.removesuffix(" DESC") not in self.all_columns:
                    raise ValueError(f"{self.name}: index column {part!r} is not a column")

    @property
    def all_columns(self) -> dict[str, str]:
        return {self.key: "text", **self.columns, "version": "bigint"}

    def table_name(self, prefix: str = "") -> str:
        return f"{prefix}{self.name}"

    def to_row(self, o: Output) -> dict[str, Any]:
        """The row of `o`: every column from the body (absent = NULL), typed as declared."""
        row: dict[str, Any] = {self.key: o.id, "version": o.version}
        for column, sql_type in self.columns.items():
            value = o.body.get(column)
            if value is not None and (
                not isinstance(value, _SQL_TYPES[sql_type])
                or (isinstance(value, bool) and sql_type != "boolean")
            ):
                raise InvalidRow(f"body.{column}: expected {sql_type} or null, got {value!r:.60}")
            if value is not None and sql_type == "timestamptz":
                try:
                    datetime.fromisoformat(value)
                except ValueError:
                    raise InvalidRow(
                        f"body.{column}: not an ISO 8601 time: {value!r:.60}"
                    ) from None
            row[column] = value
        unknown = sorted(set(o.body) - set(self.all_columns))
        if unknown:
            raise InvalidRow(f"body.{unknown[0]}: not a column of {self.name}")
        return row

    def comparable(self, row: Mapping[str, Any]) -> dict[str, Any]:
        """A row as the database gives it back: times as aware datetimes (its own text form
        is not the events'), so a row rendered and a row read compare equal."""
        out = dict(row)
        for column, sql_type in self.columns.items():
            if sql_type == "timestamptz" and isinstance(out.get(column), str):
                out[column] = datetime.fromisoformat(out[column])
        return out


def rows_of(
    specs: Mapping[str, TableSpec], outputs: Iterable[Output], skip: frozenset[str] = frozenset()
) -> dict[tuple[str, str], dict[str, Any]]:
    """The rows `outputs` make in the tables `specs` describe, as the database gives them
    back (`TableSpec.comparable`), keyed by (target, id): what a store must hold."""
    return {
        (o.target, o.id): specs[o.target].comparable(specs[o.target].to_row(o))
        for o in outputs
        if o.sink == "postgres" and o.target in specs and o.id not in skip
    }


# --------------------------------------------------------------------------- loading a plug-in


@dataclass(frozen=True)
class ReadModels:
    """What the sinks write and what the governance linter holds the contracts to."""

    index_specs: Mapping[str, IndexSpec]
    graph_patterns: Mapping[str, GraphPattern]
    ports: frozenset[Port]
    table_specs: Mapping[str, TableSpec] = field(default_factory=dict)

    @property
    def embeddings(self) -> dict[str, Mapping[str, Any]]:
        """index alias -> the model its vectors come from (the mapping's `_meta.embedding`:
        field, model, dims), for the contracts that must record it."""
        return {
            a: s.meta["embedding"] for a, s in self.index_specs.items() if "embedding" in s.meta
        }


@cache
def read_models(spec: str) -> ReadModels:
    """The read-model module `spec` names (settings.read_models): its INDEX_SPECS,
    GRAPH_PATTERNS, TABLE_SPECS (optional) and PORTS (every port it writes, the platform's
    included). Every index
    alias and graph element must be one of the ports: the linter then proves a contract owns
    it, which is what keeps a plug-in from writing a read model nobody governs."""
    module = load(spec)
    ports = frozenset(module.PORTS)
    specs: dict[str, IndexSpec] = dict(module.INDEX_SPECS)
    patterns: dict[str, GraphPattern] = dict(module.GRAPH_PATTERNS)
    tables: dict[str, TableSpec] = dict(getattr(module, "TABLE_SPECS", {}))
    stray = sorted(a for a in specs if Port("elasticsearch", a) not in ports)
    stray += sorted(f"postgres-table:{t}" for t in tables if Port("postgres-table", t) not in ports)
    stray += sorted(
        f"{kind}:{name}"
        for p in patterns.values()
        for kind, names in (("neo4j-label", p.node_labels()),
                            ("neo4j-relationship", p.relationship_types()))
        for name in names
        if Port(kind, name) not in ports  # type: ignore[arg-type]
    )  # fmt: skip
    if stray:
        raise ValueError(f"{spec}: {stray} are not in its PORTS")
    return ReadModels(specs, patterns, ports, tables)
