"""Neo4j 5.26 community with Neo4j Browser, from Maven Central jars, on Java 17.

The distribution's scripts are not available, so this module does their work: it lays out the
server home, renders neo4j.conf from the template in localstack/conf/neo4j, sets the initial
password with neo4j-admin's own command class before the first start, and passes the JVM flags
the distribution would (conf/neo4j/jvm.args).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import urllib.request
from pathlib import Path
from string import Template

from localstack import jars
from localstack.server import Server, StartError

CONF = Path(__file__).resolve().parent.parent / "conf" / "neo4j"


class Neo4j(Server):
    name = "neo4j"

    @property
    def ports(self) -> list[int]:
        return [self.s.neo4j_bolt_port, self.s.neo4j_http_port]

    @property
    def lib(self) -> Path:
        return jars.lib_dir(self.s.home, "neo4j")

    @property
    def home(self) -> Path:
        return self.dir / "home"

    def _java(self) -> str:
        return str(self.s.java17_home / "bin" / "java")

    def install(self) -> None:
        jars.ensure(self.s.home, "neo4j")

    def prepare(self) -> None:
        for d in ("conf", "data", "logs", "run", "plugins", "import", "lib"):
            (self.home / d).mkdir(parents=True, exist_ok=True)
        values = {
            "NEO4J_HOME": str(self.home),
            "HOST": self.s.host,
            "BOLT_PORT": str(self.s.neo4j_bolt_port),
            "HTTP_PORT": str(self.s.neo4j_http_port),
            "HEAP": self.s.neo4j_heap,
            "PAGECACHE": self.s.neo4j_pagecache,
            "SERVICE_PORT": str(self.s.service_port),
        }
        conf = Template((CONF / "neo4j.conf").read_text()).substitute(values)
        (self.home / "conf" / "neo4j.conf").write_text(conf)
        for name in ("server-logs.xml", "user-logs.xml"):
            shutil.copyfile(CONF / name, self.home / "conf" / name)
        if (
            not (self.home / "data" / "dbms" / "auth.ini").exists()
            and not (self.home / "data" / "databases" / "system").exists()
        ):
            self._set_initial_password()

    def _set_initial_password(self) -> None:
        if len(self.s.neo4j_password) < 8:
            raise StartError("neo4j: the password must have at least 8 characters")
        env = {**self._env(), "NEO4J_HOME": str(self.home), "NEO4J_CONF": str(self.home / "conf")}
        result = subprocess.run(
            [
                self._java(),
                "-Xmx128m",
                "-cp",
                f"{self.lib}/*",
                "org.neo4j.cli.AdminTool",
                "dbms",
                "set-initial-password",
                self.s.neo4j_password,
            ],
            capture_output=True,
            text=True,
            env=env,
        )
        if result.returncode != 0:
            raise StartError(f"neo4j: setting the initial password failed: {result.stderr[-2000:]}")

    def _env(self) -> dict[str, str]:
        env = {"PATH": "/usr/bin:/bin", "JAVA_HOME": str(self.s.java17_home)}
        if "HOME" in os.environ:
            env["HOME"] = os.environ["HOME"]
        return env

    def command(self) -> tuple[list[str], dict[str, str]]:
        heap = self.s.neo4j_heap
        argv = [
            self._java(),
            f"-Xms{heap}",
            f"-Xmx{heap}",
            f"@{CONF / 'jvm.args'}",
            "-cp",
            f"{self.lib}/*",
            "org.neo4j.server.CommunityEntryPoint",
            f"--home-dir={self.home}",
            f"--config-dir={self.home / 'conf'}",
            "--console-mode",
        ]
        return argv, self._env()

    def ready(self) -> bool:
        from neo4j import GraphDatabase

        with urllib.request.urlopen(f"http://{self.s.host}:{self.s.neo4j_http_port}/", timeout=2):
            pass
        auth = (self.s.neo4j_user, self.s.neo4j_password)
        with GraphDatabase.driver(self.s.neo4j_uri, auth=auth, connection_timeout=2) as driver:
            driver.verify_connectivity()
        return True

    def version(self) -> str:
        for jar in self.lib.glob("neo4j-kernel-*.jar"):
            m = re.match(r"neo4j-kernel-(\d[\w.]*)\.jar", jar.name)
            if m:
                return m.group(1)
        return "?"
