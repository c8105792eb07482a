"""Entry point for the sink workers (Elasticsearch, Neo4j, PostgreSQL), wired from settings.

Batch defaults were measured with 10k outputs per sink on the local stack (one writer,
first write / full replay in outputs per second):

    batch          250      500     1000     2000     5000
    Elasticsearch  3.7k     10k     12-17k   18-28k   15-24k
    Neo4j          1.2k     2.4k    3.2k     4.5k     2.4k

Both peak around 2000 and fall off beyond it (bigger bulk requests and transactions cost
more than the round trips they save); the 500 ms time bound keeps latency low when traffic
is light. PostgreSQL takes 2000 as well (one statement per table per batch), not swept yet.
"""

from __future__ import annotations

import logging
import threading
from typing import Literal

from connectors.freshness import freshness_dir
from connectors.postgres_sink import PostgresSink
from connectors.sink_worker import Sink, SinkStats, SinkWorker, WorkerConfig, sink_backoff
from entrypoints import generations
from hindsight.contracts.model import load_all
from hindsight.contracts.policies import load_policies
from hindsight.retry import RetryPolicy
from hindsight.settings import Settings
from hindsight.topics import dlq_topic, sink_group, sink_instance, sink_topic
from pipelines.disclosure import OutputGuard, guard_for
from pipelines.read_models import read_models

SinkName = Literal["elasticsearch", "neo4j", "postgres"]

# records per batch and the longest a record waits for its batch to fill (chosen by measure)
DEFAULT_BATCH = {"elasticsearch": 2000, "neo4j": 2000, "postgres": 2000}
DEFAULT_MAX_WAIT_MS = 500

log = logging.getLogger("hindsight.sink")


def build_sink(name: SinkName, settings: Settings) -> Sink:
    """The sink for `name`, writing the read models settings.read_models names."""
    models = read_models(settings.read_models)
    if name == "elasticsearch":
        from connectors.elasticsearch_sink import ElasticsearchSink  # lazy: loads its client

        return ElasticsearchSink(
            settings.elasticsearch_url,
            specs=models.index_specs,
            alias_prefix=settings.es_alias_prefix,
        )
    if name == "neo4j":
        from connectors.neo4j_sink import Neo4jSink  # lazy: loads its client (1 s)

        return Neo4jSink(
            settings.neo4j_uri,
            (settings.neo4j_user, settings.neo4j_password),
            patterns=models.graph_patterns,
            label_prefix=settings.neo4j_label_prefix,
        )
    if name == "postgres":
        return PostgresSink(
            settings.postgres_dsn,
            specs=models.table_specs,
            schema=settings.postgres_read_schema,
            table_prefix=settings.postgres_table_prefix,
        )
    raise ValueError(f"unknown sink {name!r}; expected elasticsearch, neo4j or postgres")


def output_guard(settings: Settings) -> OutputGuard:
    """What each read-model output may carry, from the deployment's contracts and plug-in."""
    return guard_for(
        load_all(*settings.contracts_dirs),
        load_policies(),
        read_models(settings.read_models).graph_patterns,
    )


def build_worker(
    name: SinkName,
    settings: Settings,
    *,
    sink: Sink | None = None,
    max_records: int | None = None,
    max_wait_ms: int = DEFAULT_MAX_WAIT_MS,
) -> SinkWorker:
    """A worker for `name` with its topic and group derived from settings; `sink` lets tests
    hand in a sink on private indices or labels."""
    config = WorkerConfig(
        topic=sink_topic(name, settings.kafka_topic_prefix),
        group_id=sink_group(name, settings.kafka_topic_prefix),
        bootstrap=settings.kafka_bootstrap,
        max_records=max_records or DEFAULT_BATCH[name],
        max_wait_ms=max_wait_ms,
        freshness_dir=freshness_dir(settings),
        dlq_topic=dlq_topic(settings.kafka_topic_prefix),  # the job's, of this deployment
        instance_id=sink_instance(name, settings.sink_instance, settings.kafka_topic_prefix),
        guard=output_guard(settings).problem,
    )
    return SinkWorker(sink or build_sink(name, settings), config)


def run_sink(
    name: SinkName,
    settings: Settings,
    *,
    until_idle_s: float | None = None,
    generation: int | None = None,
    follow_every_s: float = 5.0,
) -> SinkStats:
    """Run one sink worker until SIGTERM/SIGINT, or until its topic has been idle for
    `until_idle_s` seconds (demo, tests). Returns the worker's counters.

    Without `generation` the worker serves the live generation of the read models and follows
    the switch of a rebuild (entrypoints.generations): it checks the store's pointer every
    `follow_every_s` seconds and, once another generation is live, flushes, commits and goes
    on as a worker of that one."""
    if generation is not None:
        worker = build_worker(name, generations.settings_of(settings, generation))
        return worker.run(until_idle_s=until_idle_s)
    while True:
        serving = sink_backoff(lambda: generations.live_generation(settings, name),
                               RetryPolicy(max_backoff_s=5.0, budget_s=60.0), (Exception,),
                               what=f"{name}: which generation is live")  # fmt: skip
        worker = build_worker(name, generations.settings_of(settings, serving))
        moved, done = threading.Event(), threading.Event()
        watch = (settings, name, serving, worker, moved, done, follow_every_s)
        watcher = threading.Thread(target=_follow, args=watch, daemon=True,
                                   name=f"follow-{name}")  # fmt: skip
        watcher.start()
        try:
            stats = worker.run(until_idle_s=until_idle_s)
        finally:
            done.set()
            watcher.join()
        # a signal that came while it was following a switch ends the process all the same
        if not moved.is_set() or worker.signalled:
            return stats


def _follow(
    settings: Settings,
    name: SinkName,
    serving: int,
    worker: SinkWorker,
    moved: threading.Event,
    done: threading.Event,
    every_s: float,
) -> None:
    """Stop `worker` once another generation than `serving` is live (sets `moved`)."""
    while not done.wait(every_s):
        try:
            now = generations.live_generation(settings, name)
        except Exception:  # noqa: BLE001 - the store is away: keep serving
            continue
        if now != serving:
            log.info("generation %d is live now (was %d): following it", now, serving)
            moved.set()
            worker.stop()
            return
