"""docker/compose.yaml is `make up`'s stack in Docker: same servers, versions, ports, credentials.

Versions come from where the project pins them (localstack/jvm/pom.xml, pyproject.toml and
uv.lock, the README's PostgreSQL row); ports, credentials and heaps from hindsight.settings.
"""

from __future__ import annotations

import os
import re
import tomllib
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import yaml

from localstack import stack
from localstack.settings import StackSettings as Settings

ROOT = Path(__file__).resolve().parents[3]
DOCKER = ROOT / "docker"
POM_NS = {"m": "http://maven.apache.org/POM/4.0.0"}

# the ports a client on the host uses, per service; the rest stay on the compose network
PUBLISHED = {
    "kafka": ["kafka_port"],
    "flink-jobmanager": ["flink_rest_port"],
    "elasticsearch": ["elasticsearch_port"],
    "neo4j": ["neo4j_http_port", "neo4j_bolt_port"],
    "postgres": ["postgres_port"],
}
STATEFUL = ["kafka", "flink-jobmanager", "flink-taskmanager", "elasticsearch", "neo4j", "postgres"]


@pytest.fixture
def settings(monkeypatch: pytest.MonkeyPatch) -> Settings:
    for name in [n for n in os.environ if n.startswith("HINDSIGHT_")]:
        monkeypatch.delenv(name)
    return Settings()


@pytest.fixture(scope="module")
def services() -> dict:
    return yaml.safe_load((DOCKER / "compose.yaml").read_text())["services"]


@pytest.fixture(scope="module")
def pom() -> dict[str, str]:
    props = ET.parse(ROOT / "localstack/jvm/pom.xml").getroot().find("m:properties", POM_NS)
    return {el.tag.split("}")[1]: (el.text or "").strip() for el in props}


@pytest.fixture(scope="module")
def pyflink_version() -> str:
    deps = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    (pin,) = [d.split("==")[1] for d in deps if d.startswith("apache-flink==")]
    lock = tomllib.loads((ROOT / "uv.lock").read_text())
    (locked,) = [p["version"] for p in lock["package"] if p["name"] == "apache-flink"]
    assert pin == locked
    return pin


def _tag(image: str) -> str:
    return image.rsplit(":", 1)[1]


def _flink_conf(service: dict) -> dict:
    return yaml.safe_load(service["environment"]["FLINK_PROPERTIES"])


def test_every_server_of_the_local_stack_is_a_service(services: dict, settings: Settings) -> None:
    # the second, third... TaskManager are replicas of one service (its `scale`)
    names = {re.sub(r"-\d+$", "", s.name) for s in stack.servers(settings)}
    assert names <= set(services)


def test_published_ports_are_the_settings_defaults_on_loopback(
    services: dict, settings: Settings
) -> None:
    local = {s.name: s.ports for s in stack.servers(settings)}
    for name, service in services.items():
        published = []
        for spec in service.get("ports", []):
            parts = str(spec).split(":")  # short syntax, "IP:HOST:CONTAINER"
            assert len(parts) == 3 and parts[0] == "127.0.0.1", f"{name}: {spec} not on loopback"
            _, host, container = parts
            assert host == container, f"{name}: {spec} maps to another port in the container"
            published.append(int(host))
        assert published == [getattr(settings, f) for f in PUBLISHED.get(name, [])], name
        assert set(published) <= set(local.get(name, [])), name


def test_internal_ports_and_sizes_follow_settings(services: dict, settings: Settings) -> None:
    kafka = services["kafka"]["environment"]
    assert f"CONTROLLER://localhost:{settings.kafka_controller_port}" in kafka["KAFKA_LISTENERS"]
    assert f"HOST://127.0.0.1:{settings.kafka_port}" in kafka["KAFKA_ADVERTISED_LISTENERS"]
    assert kafka["KAFKA_HEAP_OPTS"] == f"-Xms{settings.kafka_heap} -Xmx{settings.kafka_heap}"
    for name in ("flink-jobmanager", "flink-taskmanager"):
        conf = _flink_conf(services[name])
        assert conf["rest.port"] == settings.flink_rest_port
        assert conf["jobmanager.rpc.port"] == settings.flink_jobmanager_rpc_port
        assert conf["blob.server.port"] == settings.flink_blob_port
        assert conf["taskmanager.numberOfTaskSlots"] == settings.flink_taskmanager_slots
        assert conf["parallelism.default"] == (
            settings.flink_taskmanagers * settings.flink_taskmanager_slots
        )
        assert conf["jobmanager.memory.process.size"] == settings.flink_jobmanager_memory
        assert conf["taskmanager.memory.process.size"] == settings.flink_taskmanager_memory
        # the job submitted in the container reads Kafka through the in-network listener
        env = services[name]["environment"]
        inside = f"DOCKER://{env['HINDSIGHT_HOST']}:{env['HINDSIGHT_KAFKA_PORT']}"
        assert inside in kafka["KAFKA_ADVERTISED_LISTENERS"]
    assert services["flink-taskmanager"]["scale"] == settings.flink_taskmanagers
    heap = settings.elasticsearch_heap
    assert services["elasticsearch"]["environment"]["ES_JAVA_OPTS"] == f"-Xms{heap} -Xmx{heap}"
    neo4j = services["neo4j"]["environment"]
    assert neo4j["NEO4J_server_memory_heap_max__size"] == settings.neo4j_heap
    assert neo4j["NEO4J_server_memory_pagecache_size"] == settings.neo4j_pagecache


def test_images_have_the_pinned_versions(services: dict, pom: dict[str, str]) -> None:
    assert services["kafka"]["image"] == f"apache/kafka:{pom['kafka.version']}"
    assert _tag(services["elasticsearch"]["image"]) == pom["elasticsearch.version"]
    assert _tag(services["neo4j"]["image"]) == f"{pom['neo4j.version']}-community"
    readme = (ROOT / "README.md").read_text()
    (pg_major,) = re.findall(r"^\| PostgreSQL \|[^|\n]*\| (\d+) \|", readme, re.M)
    assert _tag(services["postgres"]["image"]) == pg_major


def test_flink_image_is_built_with_the_pinned_flink_and_connector(
    services: dict, pom: dict[str, str], pyflink_version: str
) -> None:
    connector = pom["flink.kafka.connector.version"]
    for name in ("flink-jobmanager", "flink-taskmanager"):
        build = services[name]["build"]
        assert build["args"] == {
            "FLINK_VERSION": pyflink_version,
            "KAFKA_CONNECTOR_VERSION": connector,
        }
        assert (ROOT / "docker" / build["context"] / build["dockerfile"]).resolve() == (
            DOCKER / "flink" / "Dockerfile"
        )
        assert _tag(services[name]["image"]) == pyflink_version
    dockerfile = (DOCKER / "flink" / "Dockerfile").read_text()
    assert f"ARG FLINK_VERSION={pyflink_version}\n" in dockerfile
    assert f"ARG KAFKA_CONNECTOR_VERSION={connector}\n" in dockerfile
    assert "FROM flink:${FLINK_VERSION}-scala_2.12-java17 AS flink\n" in dockerfile
    assert "COPY jobs/java /src" in dockerfile  # the job's Java operators are built in
    assert "uv sync --frozen" in dockerfile  # PyFlink comes from uv.lock, pinned as above


def test_credentials_are_the_settings_defaults(services: dict, settings: Settings) -> None:
    neo4j = services["neo4j"]
    assert neo4j["environment"]["NEO4J_AUTH"] == f"{settings.neo4j_user}/{settings.neo4j_password}"
    check = neo4j["healthcheck"]["test"]
    assert check[check.index("-u") + 1] == settings.neo4j_user
    assert check[check.index("-p") + 1] == settings.neo4j_password
    pg = services["postgres"]
    assert pg["environment"]["POSTGRES_DB"] == settings.postgres_db
    assert pg["environment"]["POSTGRES_USER"] == settings.postgres_user
    assert pg["environment"]["POSTGRES_PASSWORD"] == settings.postgres_password
    check = pg["healthcheck"]["test"]
    assert check[check.index("-U") + 1] == settings.postgres_user
    assert check[check.index("-d") + 1] == settings.postgres_db


def test_every_service_has_a_healthcheck(services: dict) -> None:
    for name, service in services.items():
        check = service.get("healthcheck", {})
        assert not check.get("disable"), name
        assert check.get("test", [None])[0] in ("CMD", "CMD-SHELL"), name


def test_named_volumes_are_declared() -> None:
    compose = yaml.safe_load((DOCKER / "compose.yaml").read_text())
    declared = set(compose.get("volumes") or {})
    used = {
        str(v).split(":")[0]
        for service in compose["services"].values()
        for v in service.get("volumes", [])
        if not str(v).startswith((".", "/"))
    }
    assert used and used <= declared
    for name in STATEFUL:
        assert compose["services"][name].get("volumes"), name
