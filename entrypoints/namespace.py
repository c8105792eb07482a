"""A private deployment on the shared servers: its own topics, indices, labels and tables.

The end-to-end tests, the fault suite and the pipeline benchmark each run the whole platform
next to whatever else the servers hold. A namespace is four prefixes (Kafka topics, index
aliases, graph labels, SQL tables) and a state dir; `env_of` hands it to another process,
`running_sinks` runs its sink workers, and `wipe` deletes what it wrote, and nothing else.
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from psycopg import sql

from connectors import clients
from hindsight.settings import REPO_ROOT, Settings
from hindsight.topics import SINKS


def private(settings: Settings, home: Path, tag: str = "") -> Settings:
    """`settings` with prefixes no one else uses (`<tag>-<8 hex>`) and its state in `home`."""
    name = f"{tag or 'ns'}-{uuid.uuid4().hex[:8]}"
    return settings.model_copy(
        update={
            "home": home,
            "kafka_topic_prefix": name,
            "es_alias_prefix": f"{name}-",
            "neo4j_label_prefix": name.replace("-", "_").capitalize(),
            "postgres_table_prefix": f"{name.replace('-', '_')}_",
        }
    )


def env_of(s: Settings) -> dict[str, str]:
    """The environment that makes a job or sink process see the settings `s` (namespace and
    plug-ins alike)."""
    return {**os.environ, **s.namespace_env()}


@contextmanager
def running_sinks(s: Settings, names: Iterable[str] = SINKS) -> Iterator[None]:
    """The namespace's sink workers (`hindsight sink run`) for as long as the block runs."""
    procs = []
    for name in names:
        with open(s.home / f"sink-{name}.log", "w") as log:
            procs.append(
                subprocess.Popen(
                    [sys.executable, "-m", "entrypoints.cli", "sink", "run", name],
                    env=env_of(s),
                    cwd=REPO_ROOT,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
            )
    try:
        yield
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            p.wait(30)


def wipe(s: Settings) -> None:
    """Delete the namespace's indices, graph (nodes and constraints), tables and topics.
    Refuses the unprefixed deployment: its prefixes would match everything."""
    prefixes = (s.es_alias_prefix, s.neo4j_label_prefix, s.postgres_table_prefix)
    if not all(prefixes) or s.kafka_topic_prefix == "hindsight":
        raise ValueError("wipe is for a private namespace; these settings have no prefixes")
    es = clients.elasticsearch_for(s)
    es.indices.delete(index=f"{s.es_alias_prefix}*", ignore_unavailable=True, allow_no_indices=True)
    es.close()
    with clients.neo4j_for(s) as driver, driver.session() as session:
        # every label of the prefix, whatever wrote it; in transactions of bounded size (one
        # transaction for a benchmark's 300k nodes broke the server's transaction memory
        # limit), hence an auto-commit query, the only kind CALL ... IN TRANSACTIONS runs in
        for statement in (  # relationships first, in batches (see Neo4jSink.drop)
            "MATCH (n)-[r]->() WHERE any(l IN labels(n) WHERE l STARTS WITH $p) "
            "CALL (r) { DELETE r } IN TRANSACTIONS OF 5000 ROWS",
            "MATCH (n) WHERE any(l IN labels(n) WHERE l STARTS WITH $p) "
            "CALL (n) { DETACH DELETE n } IN TRANSACTIONS OF 5000 ROWS",
        ):
            session.run(statement, p=s.neo4j_label_prefix).consume()
        records, _, _ = driver.execute_query(
            "SHOW CONSTRAINTS YIELD name, labelsOrTypes RETURN name, labelsOrTypes"
        )
        for r in records:
            if any(t.startswith(s.neo4j_label_prefix) for t in r["labelsOrTypes"] or []):
                driver.execute_query(f"DROP CONSTRAINT {r['name']} IF EXISTS")
    with clients.postgres_for(s) as conn, conn.transaction():
        tables = conn.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = %s AND starts_with(tablename, %s)",
            (s.postgres_read_schema, s.postgres_table_prefix),
        ).fetchall()
        for (table,) in tables:
            conn.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(
                sql.Identifier(s.postgres_read_schema, table)))  # fmt: skip
    admin = clients.kafka_admin(s.kafka_bootstrap)
    mine = [
        t for t in admin.list_topics(timeout=10).topics if t.startswith(f"{s.kafka_topic_prefix}.")
    ]
    if mine:
        for f in admin.delete_topics(mine).values():
            f.result(30)
