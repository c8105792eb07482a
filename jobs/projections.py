"""Hindsight projections: Kafka event log -> keyed state -> Elasticsearch and Neo4j changes.

Submit to the standalone cluster with `make submit` (flink run -py jobs/projections.py), or run
on a local mini-cluster with `python jobs/projections.py --local`. The dataflow itself lives in
jobs/dataflow.py; this file only reads configuration and starts it.

`jobs/` has no `__init__.py` on purpose: it is a namespace package (`jobs.dataflow` imports,
and Flink pickles its functions by that module path), because `flink run -py` refuses an entry
file inside a regular package (NoSuchFileException for the copy it makes under /tmp/pyflink).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from pyflink.common import Configuration
from pyflink.datastream import StreamExecutionEnvironment

from connectors import clients
from connectors.kafka_topics import MAX_DEAD_LETTER_BYTES, ensure_topics, job_output_topics
from hindsight.eventstore.factory import key_source, store_address
from hindsight.plugins import load
from hindsight.settings import Settings, get_settings
from hindsight.topics import (
    SINKS,
    dlq_topic,
    events_pattern,
    projection_job_name,
    sink_topic,
)
from jobs.dataflow import JobConfig, build
from localstack import jars
from localstack.servers.flink import operators_jar
from localstack.settings import stack_settings
from pipelines.versions import VersionMismatch, check_and_record, projection_versions, versions_file


def local_configuration(s: Settings) -> Configuration:
    """The mini-cluster's configuration. It runs inside this process, so everything the
    standalone cluster gets from its config file must be said here: above all the interpreter
    thread mode embeds (default: the first `python` on PATH, which may lack pemja and the
    project) and the JDK the gateway starts (default: `java` on PATH)."""
    # before the first Java object starts the gateway: the mini-cluster's logs (and RocksDB's)
    # go to the state dir, one per run's home, not into the installed pyflink package
    log_dir = s.home / "flink" / "log-local"
    log_dir.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("FLINK_LOG_DIR", str(log_dir))
    os.environ["JAVA_HOME"] = str(stack_settings(s).java17_home)
    # thread mode's embedded CPython finds its home (and so the venv's site-packages, pemja
    # among them) by looking up `python` on the PATH of the JVM, whatever python.executable
    # says: the gateway JVM inherits this process's PATH, so the project's bin goes first
    bin_dir = str(Path(sys.executable).parent)
    os.environ["PATH"] = os.pathsep.join([bin_dir, os.environ.get("PATH", "")])
    connector = next(jars.lib_dir(s.home, "flink-connectors").glob("*.jar"))
    conf = Configuration()
    operators = operators_jar(stack_settings(s))
    conf.set_string("pipeline.jars", ";".join(j.as_uri() for j in (connector, operators)))
    conf.set_string("python.executable", sys.executable)
    conf.set_string("python.client.executable", sys.executable)
    conf.set_string("python.execution-mode", "thread")
    conf.set_string("state.backend.type", "rocksdb")
    checkpoints = s.home / "flink" / "checkpoints-local"
    conf.set_string("execution.checkpointing.dir", checkpoints.as_uri())
    return conf


def cluster_configuration(s: Settings) -> Configuration:
    """What a submission to the standalone cluster adds to the cluster's own configuration:
    the job's Java operators, shipped with the job (the cluster's lib holds no copy)."""
    conf = Configuration()
    conf.set_string("pipeline.jars", operators_jar(stack_settings(s)).as_uri())
    return conf


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--local", action="store_true", help="run on a local mini-cluster")
    parser.add_argument("--parallelism", type=int, default=None)
    parser.add_argument("--checkpoint-interval-ms", type=int, default=2000)
    parser.add_argument(
        "--projections", default=None, help="module:ATTR of the stages (default: settings)"
    )
    parser.add_argument("--group-id", default=None)
    parser.add_argument(
        "--events-prefix",
        default=None,
        help="read the event topics of this prefix (a replay reads the live log, writes its own)",
    )
    parser.add_argument("--until-ms", type=int, default=None, help="replay: recorded by (epoch ms)")
    parser.add_argument("--until-position", type=int, default=None, help="replay: up to position")
    parser.add_argument(
        "--event-store",
        default=None,
        help="sqlite:<path> | postgres:<schema>: whose subject keys open sealed fields "
        "(default: the settings' store)",
    )
    parser.add_argument(
        "--exec-mode",
        choices=("thread", "process"),
        default=None,
        help="python.execution-mode (default: thread locally, the cluster's config otherwise)",
    )
    parser.add_argument(
        "--rest-port",
        type=int,
        default=None,
        help="--local: serve the mini-cluster's REST API on 127.0.0.1:PORT (a rebuild stops "
        "the job with a savepoint through it)",
    )
    args = parser.parse_args()
    s = get_settings()

    cfg = JobConfig(
        bootstrap=s.kafka_bootstrap,
        topic_pattern=events_pattern(args.events_prefix or s.events_prefix),
        group_id=args.group_id or projection_job_name(s.kafka_topic_prefix),
        dlq_topic=dlq_topic(s.kafka_topic_prefix),
        sink_topics=tuple(sink_topic(sink, s.kafka_topic_prefix) for sink in SINKS),
        job_name=projection_job_name(s.kafka_topic_prefix),
        projections=args.projections or s.projections,
        contracts_dirs=tuple(str(d) for d in s.contracts_dirs),
        max_request_bytes=MAX_DEAD_LETTER_BYTES,
        until_ms=args.until_ms,
        until_position=args.until_position,
        keys=key_source(s, args.event_store or store_address(s, s.eventstore_backend)),
    )
    if args.until_position is not None and args.until_ms is None:
        parser.error("--until-position needs --until-ms (the recorded_at of that position)")

    try:  # never fold over state and read models another version of the projections built
        versions = projection_versions(load(cfg.projections))
        check_and_record(versions_file(s.home, s.kafka_topic_prefix), versions, cfg.job_name)
    except VersionMismatch as err:
        parser.exit(3, f"error: {err}\n")

    # the job's own topics exist, keep everything and are served before its sinks write
    outputs = job_output_topics(s.kafka_topic_prefix, s.kafka_partitions)
    ensure_topics(clients.kafka_admin(s.kafka_bootstrap), outputs)
    conf = local_configuration(s) if args.local else cluster_configuration(s)
    if args.local and args.rest_port:
        conf.set_string("rest.bind-address", s.host)
        conf.set_string("rest.address", s.host)
        conf.set_string("rest.bind-port", str(args.rest_port))
        conf.set_string("rest.port", str(args.rest_port))
    if args.exec_mode:
        conf.set_string("python.execution-mode", args.exec_mode)
    conf.set_string("execution.checkpointing.interval", f"{args.checkpoint_interval_ms} ms")
    conf.set_string("execution.checkpointing.mode", "EXACTLY_ONCE")
    env = StreamExecutionEnvironment.get_execution_environment(conf)
    if args.parallelism or args.local:  # on the cluster: its default, TaskManagers x slots
        env.set_parallelism(args.parallelism or 2)
    build(env, cfg)
    env.execute(cfg.job_name)


if __name__ == "__main__":
    main()
