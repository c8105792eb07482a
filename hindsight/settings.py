"""One place for the platform's configuration: servers' ports, credentials, paths, plug-ins.

Every value has a local default and an environment override (prefix ``HINDSIGHT_``), so the
same code runs on a laptop, in CI and against remote servers without edits. Versions are not
here: JVM artifacts are pinned in ``localstack/jvm/pom.xml`` and Python packages in ``uv.lock``.
What only the local stack needs to run the servers (heaps, JDKs, its extra ports) is in
``localstack/settings.py``.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

REPO_ROOT = Path(__file__).resolve().parent.parent


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="HINDSIGHT_", extra="ignore")

    home: Path = Field(
        default=REPO_ROOT / ".hindsight", description="state dir (jars, data, logs, pids)"
    )
    host: str = "127.0.0.1"

    kafka_port: int = 9092
    flink_rest_port: int = 8081
    elasticsearch_port: int = 9200

    neo4j_http_port: int = 7474
    neo4j_bolt_port: int = 7687
    neo4j_user: str = "neo4j"
    neo4j_password: str = "hindsight"

    postgres_port: int = 5432
    postgres_db: str = "hindsight"
    postgres_user: str = "hindsight"
    postgres_password: str = "hindsight"
    # the event store's tables live in this schema (several stores can share one database)
    postgres_schema: str = "public"

    # the write side: which domain the platform serves ("module:attribute" of a Domain)
    domain: str = "commerce.domain:COMMERCE"
    eventstore_backend: Literal["sqlite", "postgres"] = "sqlite"
    # FULL: a commit survives power loss (WAL fsynced at every commit). NORMAL: it survives a
    # killed process but the last commits may roll back after an OS crash or power loss, for
    # ~5x cheaper commits (`make bench-store` measures both). PostgreSQL: its own settings.
    sqlite_synchronous: Literal["FULL", "NORMAL"] = "FULL"
    snapshot_every: int = 100
    service_port: int = 8000
    kafka_partitions: int = 4
    kafka_topic_prefix: str = "hindsight"
    # the event topics' prefix when it is not the deployment's own: a rebuilt generation of
    # the read models (its own job, sink topics and groups) reads the live event log
    events_topic_prefix: str = ""
    relay_batch_size: int = 2000
    # which worker of a sink this process is (its static Kafka group membership): a worker
    # restarted with the same value takes its partitions back at once; run a second worker
    # of the same sink with another value
    sink_instance: str = "1"

    # read models: prefixes give a test (or a rebuild) private copies of indices and labels
    es_alias_prefix: str = ""
    neo4j_label_prefix: str = ""
    postgres_table_prefix: str = ""
    # the SQL read models' tables live in this schema of postgres_db, apart from the store's
    postgres_read_schema: str = "read_models"

    # the read side, as plug-ins: a second domain is added here, not by editing the platform.
    # contracts_dirs: directories of `<domain>/datacontract.yaml` (or one product's own dir),
    # as a JSON list in the environment; relative paths are taken from the repository root.
    contracts_dirs: list[Path] = Field(default_factory=lambda: [REPO_ROOT / "data-products"])
    # "module:attribute" of the projection stages the Flink job runs (list of lists)
    projections: str = "commerce.read.plugin:STAGES"
    # module with INDEX_SPECS, GRAPH_PATTERNS and PORTS (every port it writes)
    read_models: str = "commerce.read.plugin"

    @field_validator("contracts_dirs")
    @classmethod
    def _from_repo_root(cls, dirs: list[Path]) -> list[Path]:
        # the Flink job, the sinks and the CLI run from different working directories
        return [d if d.is_absolute() else REPO_ROOT / d for d in dirs]

    def namespace_env(self) -> dict[str, str]:
        """The HINDSIGHT_* variables that make a process started elsewhere (a job, a sink
        worker, a service) see this deployment's names and plug-ins: how a test or a private
        deployment hands its namespace on. The state dir and ports are the caller's to add."""
        return {
            "HINDSIGHT_KAFKA_TOPIC_PREFIX": self.kafka_topic_prefix,
            "HINDSIGHT_EVENTS_TOPIC_PREFIX": self.events_topic_prefix,
            "HINDSIGHT_ES_ALIAS_PREFIX": self.es_alias_prefix,
            "HINDSIGHT_NEO4J_LABEL_PREFIX": self.neo4j_label_prefix,
            "HINDSIGHT_POSTGRES_TABLE_PREFIX": self.postgres_table_prefix,
            "HINDSIGHT_DOMAIN": self.domain,
            "HINDSIGHT_PROJECTIONS": self.projections,
            "HINDSIGHT_READ_MODELS": self.read_models,
            "HINDSIGHT_CONTRACTS_DIRS": json.dumps([str(d) for d in self.contracts_dirs]),
        }

    @property
    def events_prefix(self) -> str:
        """Where the event topics are: the deployment's prefix unless it reads another's."""
        return self.events_topic_prefix or self.kafka_topic_prefix

    @property
    def kafka_bootstrap(self) -> str:
        return f"{self.host}:{self.kafka_port}"

    @property
    def elasticsearch_url(self) -> str:
        return f"http://{self.host}:{self.elasticsearch_port}"

    @property
    def neo4j_uri(self) -> str:
        return f"bolt://{self.host}:{self.neo4j_bolt_port}"

    @property
    def neo4j_browser_url(self) -> str:
        return f"http://{self.host}:{self.neo4j_http_port}/browser/"

    @property
    def flink_url(self) -> str:
        return f"http://{self.host}:{self.flink_rest_port}"

    @property
    def service_url(self) -> str:
        return f"http://{self.host}:{self.service_port}"

    @property
    def postgres_dsn(self) -> str:
        return (
            f"postgresql://{self.postgres_user}:{self.postgres_password}"
            f"@{self.host}:{self.postgres_port}/{self.postgres_db}"
        )


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
