"""One Kafka broker in KRaft mode (broker and controller in one JVM), from Maven Central jars."""

from __future__ import annotations

import re
import subprocess
import uuid
from pathlib import Path

from localstack import jars
from localstack.server import Server, StartError


class Kafka(Server):
    name = "kafka"

    @property
    def ports(self) -> list[int]:
        return [self.s.kafka_port, self.s.kafka_controller_port]

    @property
    def lib(self) -> Path:
        return jars.lib_dir(self.s.home, "kafka")

    def install(self) -> None:
        jars.ensure(self.s.home, "kafka")

    def _java(self) -> str:
        return str(self.s.java17_home / "bin" / "java")

    def prepare(self) -> None:
        data = self.dir / "data"
        data.mkdir(parents=True, exist_ok=True)
        h = self.s.host
        props = f"""\
process.roles=broker,controller
node.id=1
controller.quorum.bootstrap.servers={h}:{self.s.kafka_controller_port}
listeners=PLAINTEXT://{h}:{self.s.kafka_port},CONTROLLER://{h}:{self.s.kafka_controller_port}
advertised.listeners=PLAINTEXT://{h}:{self.s.kafka_port}
controller.listener.names=CONTROLLER
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
inter.broker.listener.name=PLAINTEXT
log.dirs={data}
num.partitions=2
auto.create.topics.enable=true
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
log.retention.hours=-1
"""
        (self.dir / "server.properties").write_text(props)
        (self.dir / "log4j2.properties").write_text(
            "status = warn\n"
            "appender.out.type = Console\nappender.out.name = out\n"
            "appender.out.layout.type = PatternLayout\n"
            "appender.out.layout.pattern = [%d] %p %m (%c)%n\n"
            "rootLogger.level = info\nrootLogger.appenderRef.out.ref = out\n"
            "logger.controller.name = org.apache.kafka.controller\nlogger.controller.level = warn\n"
        )
        if not (data / "meta.properties").exists():
            cluster_id = _kraft_cluster_id()
            result = subprocess.run(
                [
                    self._java(),
                    "-cp",
                    f"{self.lib}/*",
                    f"-Dlog4j2.configurationFile={self.dir / 'log4j2.properties'}",
                    "kafka.tools.StorageTool",
                    "format",
                    "--standalone",
                    "-t",
                    cluster_id,
                    "-c",
                    str(self.dir / "server.properties"),
                ],
                capture_output=True,
                text=True,
            )
            if result.returncode != 0:
                raise StartError(f"kafka: formatting {data} failed: {result.stdout}{result.stderr}")

    def command(self) -> tuple[list[str], dict[str, str]]:
        argv = [
            self._java(),
            f"-Xms{self.s.kafka_heap}",
            f"-Xmx{self.s.kafka_heap}",
            "-XX:+UseG1GC",
            "-XX:MaxGCPauseMillis=20",
            "-Djava.awt.headless=true",
            f"-Dlog4j2.configurationFile={self.dir / 'log4j2.properties'}",
            "-cp",
            f"{self.lib}/*",
            "kafka.Kafka",
            str(self.dir / "server.properties"),
        ]
        return argv, {"PATH": "/usr/bin:/bin"}

    def ready(self) -> bool:
        from confluent_kafka.admin import AdminClient

        admin = AdminClient({"bootstrap.servers": self.s.kafka_bootstrap, "log_level": 0})
        meta = admin.list_topics(timeout=2)
        return len(meta.brokers) == 1

    def version(self) -> str:
        for jar in self.lib.glob("kafka_2.13-*.jar"):
            m = re.match(r"kafka_2\.13-(.+)\.jar", jar.name)
            if m:
                return m.group(1)
        return "?"


def _kraft_cluster_id() -> str:
    # a KRaft cluster id is a base64url-encoded UUID without padding (22 chars)
    import base64

    return base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
