"""Hindsight projections: Kafka event log -> keyed state -> Elasticsearch and Neo4j changes.

Submit to the standalone cluster with `make submit` (flink run -py jobs/projections.py), or run
on a local mini-cluster with `python jobs/projections.py --local`. The dataflow itself lives in
pipelines/dataflow.py; this file only reads configuration and starts it.
"""

from __future__ import annotations

import argparse
import os
import re

from pyflink.common import Configuration
from pyflink.datastream import StreamExecutionEnvironment

from hindsight.contracts.ports import sink_topic
from hindsight.settings import get_settings
from pipelines.dataflow import JobConfig, build


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
        "--exec-mode",
        choices=("thread", "process"),
        default=None,
        help="python.execution-mode (default: thread locally, the cluster's config otherwise)",
    )
    args = parser.parse_args()
    s = get_settings()

    prefix = re.escape(s.kafka_topic_prefix)
    cfg = JobConfig(
        bootstrap=s.kafka_bootstrap,
        topic_pattern=rf"{prefix}\.[a-z0-9_-]+\.events",
        group_id=args.group_id or f"{s.kafka_topic_prefix}-projections",
        dlq_topic=f"{s.kafka_topic_prefix}.dlq",
        es_topic=sink_topic("elasticsearch", s.kafka_topic_prefix),
        neo4j_topic=sink_topic("neo4j", s.kafka_topic_prefix),
        job_name=f"{s.kafka_topic_prefix}-projections",
        projections=args.projections or s.projections,
        contracts_dirs=tuple(str(d) for d in s.contracts_dirs),
    )

    if args.local:
        # before the first Java object starts the gateway: the mini-cluster's logs (and
        # RocksDB's) go to the state dir, one per run's home, not into the installed pyflink
        # package where each run overwrote the last
        log_dir = s.home / "flink" / "log-local"
        log_dir.mkdir(parents=True, exist_ok=True)
        os.environ.setdefault("FLINK_LOG_DIR", str(log_dir))
    conf = Configuration()
    if args.local:
        from localstack import jars

        connector = next(jars.lib_dir(s.home, "flink-connectors").glob("*.jar"))
        checkpoints = s.home / "flink" / "checkpoints-local"
        conf.set_string("pipeline.jars", connector.as_uri())
        conf.set_string("python.execution-mode", "thread")
        conf.set_string("state.backend.type", "rocksdb")
        conf.set_string("execution.checkpointing.dir", checkpoints.as_uri())
    if args.exec_mode:
        conf.set_string("python.execution-mode", args.exec_mode)
    conf.set_string("execution.checkpointing.interval", f"{args.checkpoint_interval_ms} ms")
    conf.set_string("execution.checkpointing.mode", "EXACTLY_ONCE")
    env = StreamExecutionEnvironment.get_execution_environment(conf)
    env.set_parallelism(args.parallelism or 2)
    build(env, cfg)
    env.execute(cfg.job_name)


if __name__ == "__main__":
    main()
