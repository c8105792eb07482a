"""Entry point for the two sink workers, wired from settings (mounted by the CLI).

Batch defaults were measured with 10k outputs per sink on the local stack (one writer,
first write / full replay in outputs per second):

    batch          250      500     1000     2000     5000
    Elasticsearch  3.7k     10k     12-17k   18-28k   15-24k
    Neo4j          1.2k     2.4k    3.2k     4.5k     2.4k

Both peak around 2000 and fall off beyond it (bigger bulk requests and transactions cost
more than the round trips they save); the 500 ms time bound keeps latency low when traffic
is light.
"""

from __future__ import annotations

from typing import Literal

from connectors.freshness import freshness_dir
from connectors.sink_worker import Sink, SinkStats, SinkWorker, WorkerConfig
from hindsight.contracts.model import load_all
from hindsight.contracts.policies import load_policies
from hindsight.settings import Settings
from hindsight.topics import dlq_topic, sink_group, sink_instance, sink_topic
from pipelines.disclosure import OutputGuard, guard_for
from pipelines.read_models import read_models

SinkName = Literal["elasticsearch", "neo4j"]

# records per batch and the longest a record waits for its batch to fill (chosen by measure)
DEFAULT_BATCH = {"elasticsearch": 2000, "neo4j": 2000}
DEFAULT_MAX_WAIT_MS = 500


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
    raise ValueError(f"unknown sink {name!r}; expected elasticsearch or neo4j")


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


def run_sink(name: SinkName, settings: Settings, *, until_idle_s: float | None = None) -> SinkStats:
    """Run one sink worker until SIGTERM/SIGINT, or until its topic has been idle for
    `until_idle_s` seconds (demo, tests). Returns the worker's counters."""
    return build_worker(name, settings).run(until_idle_s=until_idle_s)
