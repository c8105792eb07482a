"""A real single-node Elasticsearch 9, started in-process by a small Java launcher.

No tarball is available here, only Maven Central jars; `localstack/java/EsNode.java` starts a
`Node` with the Netty4 HTTP plugin. It runs on the Java 21+ JDK (ES 9's floor). The launcher is
compiled once into the state dir, keyed by its source hash.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import urllib.request
from pathlib import Path

from localstack import jars
from localstack.server import Server, StartError

SOURCE = Path(__file__).resolve().parent.parent / "java" / "EsNode.java"


class Elasticsearch(Server):
    name = "elasticsearch"

    @property
    def ports(self) -> list[int]:
        return [self.s.elasticsearch_port, self.s.elasticsearch_transport_port]

    @property
    def lib(self) -> Path:
        return jars.lib_dir(self.s.home, "elasticsearch")

    @property
    def classes(self) -> Path:
        return self.dir / "classes"

    def _java_home(self) -> Path:
        if not (self.s.java21_home / "bin" / "java").exists():
            raise StartError(
                f"elasticsearch: needs Java 21+; no JDK at {self.s.java21_home} "
                "(set HINDSIGHT_JAVA21_HOME)"
            )
        return self.s.java21_home

    def install(self) -> None:
        jars.ensure(self.s.home, "elasticsearch")
        digest = hashlib.sha256(SOURCE.read_bytes()).hexdigest()
        stamp = self.classes / ".source.sha256"
        if stamp.exists() and stamp.read_text() == digest:
            return
        shutil.rmtree(self.classes, ignore_errors=True)
        self.classes.mkdir(parents=True)
        result = subprocess.run(
            [
                str(self._java_home() / "bin" / "javac"),
                "-nowarn",
                "-cp",
                f"{self.lib}/*",
                "-d",
                str(self.classes),
                str(SOURCE),
            ],
            capture_output=True,
            text=True,
        )
        if result.returncode != 0:
            raise StartError(f"elasticsearch: compiling {SOURCE.name} failed:\n{result.stderr}")
        stamp.write_text(digest)

    def prepare(self) -> None:
        for d in ("home", "data", "logs"):
            (self.dir / d).mkdir(parents=True, exist_ok=True)

    def command(self) -> tuple[list[str], dict[str, str]]:
        s = self.s
        argv = [
            str(self._java_home() / "bin" / "java"),
            f"-Xms{s.elasticsearch_heap}",
            f"-Xmx{s.elasticsearch_heap}",
            "-XX:+UseG1GC",
            "--enable-native-access=ALL-UNNAMED",
            "--add-modules",
            "jdk.incubator.vector",
            f"-Des.home={self.dir / 'home'}",
            f"-Des.data={self.dir / 'data'}",
            f"-Des.logs={self.dir / 'logs'}",
            f"-Des.host={s.host}",
            f"-Des.port={s.elasticsearch_port}",
            f"-Des.transport.port={s.elasticsearch_transport_port}",
            "-Des.cluster=hindsight",
            "-Des.node=hindsight-es",
            "-cp",
            f"{self.lib}/*:{self.classes}",
            "EsNode",
        ]
        return argv, {"PATH": "/usr/bin:/bin", "JAVA_HOME": str(self._java_home())}

    def _get(self, path: str) -> dict:
        with urllib.request.urlopen(f"{self.s.elasticsearch_url}{path}", timeout=2) as r:
            return json.loads(r.read())

    def ready(self) -> bool:
        return self._get("/_cluster/health")["status"] in ("green", "yellow")

    def version(self) -> str:
        return str(self._get("/")["version"]["number"])
