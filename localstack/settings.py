"""The local stack's own settings: what only the launcher needs to run the servers here.

Heaps, the launcher's extra ports, the JDKs and how long a server may take to start are not
the platform's business (a deployment against remote servers has none of them), so they live
beside the launcher, with the same `HINDSIGHT_` environment overrides. `StackSettings` extends
the platform's `Settings` (the servers' client ports and the state dir are shared);
`stack_settings(s)` gives the launcher's view of any platform settings, a test's included.
"""

from __future__ import annotations

from pathlib import Path

from hindsight.settings import Settings


class StackSettings(Settings):
    kafka_controller_port: int = 9093
    kafka_heap: str = "768m"

    flink_jobmanager_rpc_port: int = 6123
    flink_blob_port: int = 6124
    # TaskManagers, each its own JVM and, in thread mode, its own CPython (its own GIL);
    # the cluster's default parallelism is taskmanagers x slots. Two of one slot each carried
    # the job at ~2x one of two slots here (make bench-pipeline, README "Measured")
    flink_taskmanagers: int = 2
    flink_taskmanager_slots: int = 1
    flink_jobmanager_memory: str = "1024m"
    flink_taskmanager_memory: str = "3072m"

    elasticsearch_transport_port: int = 9300
    elasticsearch_heap: str = "1g"

    neo4j_heap: str = "1g"
    neo4j_pagecache: str = "512m"

    # JDKs: most servers run on the default Java 17; Elasticsearch 9 needs Java 21+.
    java17_home: Path = Path("/usr/lib/jvm/java-17-openjdk-amd64")
    java21_home: Path = Path("/usr/lib/jvm/temurin-25-jdk-amd64")

    start_timeout_s: float = 180.0


def stack_settings(settings: Settings) -> StackSettings:
    """The launcher's settings for `settings`' deployment: its values, and the stack's own
    from the environment (or their defaults)."""
    if isinstance(settings, StackSettings):
        return settings
    return StackSettings(**settings.model_dump())
