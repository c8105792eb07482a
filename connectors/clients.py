"""One factory per client: Elasticsearch, Neo4j, PostgreSQL (the SQL read models) and Kafka's
producer, consumer and admin.

Every process builds its clients here, so the settings that carry a guarantee are written
once: the idempotent, all-replicas producer the log is written with, a consumer that never
commits on its own, clients that leave retries to our one policy (`connectors.retry`)
instead of retrying behind its back. A caller passes what is its own (a group, a timeout);
`*_for(settings)` builds a deployment's client from its settings.

The Elasticsearch and Neo4j libraries are imported when a client is built, not with this
module: together they take 2.5 s to import, which every `hindsight` command (and the HTTP
service's start) would otherwise pay whether it reads a read model or not.
"""

from __future__ import annotations

import os
import threading
from typing import TYPE_CHECKING, Any

from confluent_kafka import Consumer, Producer
from confluent_kafka.admin import AdminClient

from hindsight.settings import Settings

if TYPE_CHECKING:
    import psycopg
    from elasticsearch import Elasticsearch
    from neo4j import Driver


def elasticsearch(
    url: str, *, request_timeout_s: float = 30.0, retries: bool = True
) -> Elasticsearch:
    """`retries=False` for a sink, whose retries (backoff, per item) are the retry policy's."""
    from elasticsearch import Elasticsearch

    if retries:
        return Elasticsearch(url, request_timeout=request_timeout_s)
    return Elasticsearch(
        url, request_timeout=request_timeout_s, max_retries=0, retry_on_timeout=False
    )


def elasticsearch_for(settings: Settings, **kwargs: Any) -> Elasticsearch:
    return elasticsearch(settings.elasticsearch_url, **kwargs)


def neo4j(uri: str, auth: tuple[str, str], **kwargs: Any) -> Driver:
    """kwargs: the driver's own (a sink keeps `max_transaction_retry_time` short: backoff
    across an outage is the retry policy's). The server's "unrecognized" notes (a label or
    property no write has made yet: every fresh graph, every position not saved yet) are
    not asked for: they are no news, and the driver logs each as a warning. Performance and
    deprecation notes still come."""
    from neo4j import GraphDatabase

    kwargs.setdefault("notifications_disabled_classifications", ["UNRECOGNIZED"])
    return GraphDatabase.driver(uri, auth=auth, **kwargs)


def neo4j_for(settings: Settings, **kwargs: Any) -> Driver:
    return neo4j(settings.neo4j_uri, (settings.neo4j_user, settings.neo4j_password), **kwargs)


def postgres(
    dsn: str, *, connect_timeout_s: int = 5, autocommit: bool = False
) -> psycopg.Connection:
    """A connection to the SQL read models' database (the event store has its own, in
    hindsight.eventstore). Transactions are the caller's (`autocommit=False`): a sink's batch
    is one transaction; a reader asks for autocommit so it never holds one open."""
    import psycopg

    return psycopg.connect(
        dsn,
        connect_timeout=connect_timeout_s,
        autocommit=autocommit,
        application_name="hindsight-read-models",
        options="-c timezone=UTC",  # times come back in UTC, as the events carry them
    )


def postgres_for(settings: Settings, **kwargs: Any) -> psycopg.Connection:
    return postgres(settings.postgres_dsn, **kwargs)


_readers: dict[tuple[str, int], psycopg.Connection] = {}
_readers_lock = threading.Lock()


def postgres_reader(dsn: str) -> psycopg.Connection:
    """The process's one autocommit connection for reads (queries, positions, the pointer),
    made again once it broke: a read must not pay for a connection (~5 ms here) every time.
    psycopg serialises the statements of threads sharing it. Per process: a forked child
    must not talk on its parent's socket (the server would see one session, two clients)."""
    key = (dsn, os.getpid())
    with _readers_lock:
        conn = _readers.get(key)
        if conn is None or conn.closed or conn.broken:
            conn = _readers[key] = postgres(dsn, autocommit=True)
        return conn


def producer_config(bootstrap: str, timeout_s: float = 30.0) -> dict[str, Any]:
    """The idempotent producer the log is written with: every in-sync replica acknowledges,
    and per-partition order holds across retries (the relay and the test harness alike).
    gzip, at its fastest level: the one codec every Kafka client reads without an extra
    package (kafka-python, the design card's client, refuses lz4 and snappy without one)."""
    return {
        "bootstrap.servers": bootstrap,
        "enable.idempotence": True,
        "acks": "all",
        "linger.ms": 5,
        "batch.num.messages": 10000,
        "compression.type": "gzip",
        "compression.level": 1,
        "message.timeout.ms": int(timeout_s * 1000),
    }


def kafka_producer(bootstrap: str, *, timeout_s: float = 30.0, **extra: Any) -> Producer:
    """extra: librdkafka settings of the caller's own (a bigger `message.max.bytes`...)."""
    return Producer({**producer_config(bootstrap, timeout_s), **extra})


def kafka_consumer(bootstrap: str, group_id: str, **extra: Any) -> Consumer:
    """A consumer that commits only what its caller commits, reading committed records only
    (the sink topics are written transactionally), from the earliest record of a new group."""
    return Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": group_id,
            "enable.auto.commit": False,
            "isolation.level": "read_committed",
            "auto.offset.reset": "earliest",
            **extra,
        }
    )


def kafka_admin(bootstrap: str, **extra: Any) -> AdminClient:
    return AdminClient({"bootstrap.servers": bootstrap, **extra})
