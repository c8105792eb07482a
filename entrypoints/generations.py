"""Generations of a deployment's read models, and the one pointer that says which is live.

Generation 1 is the deployment itself (its job, sink topics and groups, indices behind the
public aliases, bare labels). `hindsight rebuild` builds generation g+1 beside it under names
of its own (`<prefix>-gen<g>` topics and groups, `gen<g>-` indices, `Gen<g>_` labels; the event
topics stay the live ones) and, once it has caught up and equals the reference, switches:

- Elasticsearch: every public alias moves to the new generation's index in ONE `_aliases`
  call (atomic for any reader of the alias, Kibana or curl included);
- Neo4j and everything of ours: one pointer node, `(:<prefix>ReadModelPointer)`, holds the live
  generation; PostgreSQL: one row of `<schema>.<prefix>read_model_pointer`. The query layer
  resolves it for every read (search, graph, positions) and the
  sink workers started without a generation follow it (`entrypoints.sinks.run_sink`).

Each generation's sinks write their own concrete indices and labels, never the public alias:
a worker of the old generation still draining cannot write into the new one.
"""

from __future__ import annotations

import logging
import re
from functools import cache
from typing import Any

import psycopg
from elasticsearch import NotFoundError
from psycopg import sql

from connectors import clients
from hindsight.settings import Settings
from hindsight.topics import SINKS
from pipelines.read_models import read_models

log = logging.getLogger("hindsight.generations")

POINTER_LABEL = "ReadModelPointer"
POINTER_TABLE = "read_model_pointer"
FIRST = 1


def settings_of(s: Settings, generation: int) -> Settings:
    """Generation `generation` of the deployment `s` (itself for the first)."""
    if generation < FIRST:
        raise ValueError(f"generation {generation}: generations count from {FIRST}")
    if generation == FIRST:
        return s
    return s.model_copy(
        update={
            "kafka_topic_prefix": f"{s.kafka_topic_prefix}-gen{generation}",
            "events_topic_prefix": s.events_prefix,
            "es_alias_prefix": f"{s.es_alias_prefix}gen{generation}-",
            "neo4j_label_prefix": f"{s.neo4j_label_prefix}Gen{generation}_",
            "postgres_table_prefix": f"{s.postgres_table_prefix}gen{generation}_",
        }
    )


def _pointer(s: Settings) -> str:
    return f"{s.neo4j_label_prefix}{POINTER_LABEL}"


_last_known: dict[tuple[str, str], int] = {}


def live_generation(s: Settings, store: str = "neo4j") -> int:
    """The generation readers and sink workers of `store` use now (1 until a rebuild
    switched), read from that store alone, so neither store's readers depend on the other:
    Neo4j's pointer node, or the index Elasticsearch's public alias points at. If it cannot
    be read (the server restarting), the last one this process read."""
    key = (s.kafka_topic_prefix, store)
    readers = {"elasticsearch": _read_es, "postgres": _read_postgres}
    try:
        generation = readers.get(store, _read_neo4j)(s)
    except Exception:  # noqa: BLE001 - any failure: fall back to what was read before
        if key in _last_known:
            return _last_known[key]
        raise
    _last_known[key] = generation
    return generation


@cache
def _driver(uri: str, user: str, password: str) -> Any:
    """One driver per server for the process: the pointer is read on every query."""
    return clients.neo4j(uri, (user, password))


@cache
def _es(url: str) -> Any:
    return clients.elasticsearch(url)


def _read_neo4j(s: Settings) -> int:
    driver = _driver(s.neo4j_uri, s.neo4j_user, s.neo4j_password)
    records, _, _ = driver.execute_query(f"MATCH (p:`{_pointer(s)}`) RETURN p.generation AS g")
    return int(records[0]["g"]) if records and records[0]["g"] is not None else FIRST


def _pointer_table(s: Settings) -> sql.Identifier:
    return sql.Identifier(s.postgres_read_schema, f"{s.postgres_table_prefix}{POINTER_TABLE}")


def _read_postgres(s: Settings) -> int:
    conn = clients.postgres_reader(s.postgres_dsn)
    try:
        row = conn.execute(
            sql.SQL("SELECT generation FROM {} WHERE name = 'live'").format(_pointer_table(s))
        ).fetchone()
    except psycopg.errors.UndefinedTable:  # no rebuild has switched yet
        return FIRST
    return int(row[0]) if row else FIRST


def _read_es(s: Settings) -> int:
    spec = next(iter(read_models(s.read_models).index_specs.values()))
    try:
        held = list(
            _es(s.elasticsearch_url).indices.get_alias(name=spec.alias_name(s.es_alias_prefix))
        )
    except NotFoundError:
        return FIRST  # no sink has started yet
    found = re.match(rf"{re.escape(s.es_alias_prefix)}gen(\d+)-", held[0]) if held else None
    return int(found[1]) if found else FIRST


def live(s: Settings, store: str = "neo4j") -> Settings:
    """The settings that read (and write) the live generation of deployment `s`, as `store`
    says it is (both stores say the same but for the instant between their two switches)."""
    return settings_of(s, live_generation(s, store))


def alias_moves(s: Settings, es: Any, generation: int) -> list[dict[str, Any]]:
    """The `_aliases` actions that point every public alias of `s` at `generation`'s index:
    removed from whatever index holds it now, added to the new one, in one request."""
    target = settings_of(s, generation)
    actions: list[dict[str, Any]] = []
    for spec in read_models(s.read_models).index_specs.values():
        public = spec.alias_name(s.es_alias_prefix)
        index = spec.index_name(1, target.es_alias_prefix)
        try:
            held = dict(es.indices.get_alias(name=public))
        except NotFoundError:
            held = {}
        for old in held:
            if old != index:
                actions.append({"remove": {"index": old, "alias": public}})
        actions.append({"add": {"index": index, "alias": public, "is_write_index": True}})
    return actions


def switch(s: Settings, generation: int) -> None:
    """Make `generation` the live one: the public aliases, PostgreSQL's pointer, then
    Neo4j's (the one a query of several stores reads: set last, `replay.reading_at`)."""
    es = clients.elasticsearch_for(s)
    try:
        actions = alias_moves(s, es, generation)
        es.indices.update_aliases(actions=actions)
    finally:
        es.close()
    with clients.postgres_for(s) as conn, conn.transaction():
        conn.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(
            sql.Identifier(s.postgres_read_schema)))  # fmt: skip
        conn.execute(sql.SQL("CREATE TABLE IF NOT EXISTS {} (name text PRIMARY KEY, "
                             "generation integer NOT NULL, switched_at timestamptz NOT NULL)"
                             ).format(_pointer_table(s)))  # fmt: skip
        conn.execute(
            sql.SQL("INSERT INTO {} (name, generation, switched_at) VALUES ('live', %s, now()) "
                    "ON CONFLICT (name) DO UPDATE SET generation = excluded.generation, "
                    "switched_at = excluded.switched_at").format(_pointer_table(s)),
            (generation,),
        )  # fmt: skip
    with clients.neo4j_for(s) as driver:
        driver.execute_query(
            f"MERGE (p:`{_pointer(s)}` {{name: 'live'}}) SET p.generation = $g, "
            "p.switched_at = datetime()",
            g=generation,
        )
    _last_known.update({(s.kafka_topic_prefix, st): generation for st in SINKS})
    log.info("generation %d of %s is live", generation, s.kafka_topic_prefix)
