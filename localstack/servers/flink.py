"""A standalone Flink cluster (one JobManager, one TaskManager) from the apache-flink wheel.

The wheel carries a whole Flink distribution. The project never edits it: the cluster runs
with its own conf dir (FLINK_CONF_DIR) and lib dir (FLINK_LIB_DIR: the wheel's jars plus the
Kafka connector), both under the state dir.
"""

from __future__ import annotations

import importlib.util
import json
import os
import sys
import urllib.request
from pathlib import Path

import yaml

from hindsight.settings import Settings
from localstack import jars, job_operators
from localstack.python_code import TASKMANAGER, mark_clean
from localstack.server import Server
from localstack.settings import StackSettings, stack_settings


def flink_home() -> Path:
    spec = importlib.util.find_spec("pyflink")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("apache-flink is not installed in this environment (run `make install`)")
    return Path(next(iter(spec.submodule_search_locations)))


def operators_jar(s: StackSettings) -> Path:
    """The job's own Java operators (jobs/java) built against this Flink, with the JDK 17."""
    connectors = jars.ensure(s.home, "flink-connectors")
    return job_operators.ensure(s.home, s.java17_home, flink_home() / "lib", connectors)


class FlinkLayout:
    """Where the project's Flink conf and lib live; shared by the servers and `flink run`."""

    def __init__(self, settings: Settings) -> None:
        self.s = stack_settings(settings)
        self.base = settings.home / "flink"
        self.conf = self.base / "conf"
        self.lib = self.base / "lib"
        self.checkpoints = self.base / "checkpoints"
        self.savepoints = self.base / "savepoints"

    def env(self) -> dict[str, str]:
        env = {
            "PATH": f"{Path(sys.executable).parent}:{self.s.java17_home / 'bin'}:/usr/bin:/bin",
            "JAVA_HOME": str(self.s.java17_home),
            "FLINK_HOME": str(flink_home()),
            "FLINK_CONF_DIR": str(self.conf),
            "FLINK_LIB_DIR": str(self.lib),
            "FLINK_LOG_DIR": str(self.s.home / "logs" / "flink"),
            "FLINK_PID_DIR": str(self.base / "run"),
            "HOSTNAME": "localhost",
        }
        if "HOME" in os.environ:
            env["HOME"] = os.environ["HOME"]
        # the job's client reads Hindsight's configuration (topic prefix, ...) at submission
        env.update({k: v for k, v in os.environ.items() if k.startswith("HINDSIGHT_")})
        return env

    # Long on purpose: the cluster's whole configuration written in one place, top to bottom,
    # as the file it produces reads.
    def write(self) -> None:
        home = flink_home()
        connectors = jars.ensure(self.s.home, "flink-connectors")
        self.lib.mkdir(parents=True, exist_ok=True)
        for old in self.lib.glob("*.jar"):
            old.unlink()
        # flink-python (with pemja, thread mode's embedded interpreter) joins the cluster's
        # classpath: pemja's native library can be loaded by one classloader only, so loading
        # it per job fails on the second Python job a TaskManager runs
        python_jar = sorted((home / "opt").glob("flink-python-*.jar"))
        # the projection job's own Java operators (jobs/java) are not here: each submission
        # ships the current jar (jobs/projections.py, pipeline.jars), so changed operators
        # need no cluster restart and never meet classes of an older build
        for jar in [*(home / "lib").glob("*.jar"), *python_jar, *connectors.glob("*.jar")]:
            (self.lib / jar.name).symlink_to(jar)
        self.conf.mkdir(parents=True, exist_ok=True)
        for name in (
            "log4j.properties",
            "log4j-console.properties",
            "log4j-cli.properties",
            "logback.xml",
            "logback-console.xml",
        ):
            (self.conf / name).write_bytes((home / "conf" / name).read_bytes())
        base = yaml.safe_load((home / "conf" / "config.yaml").read_text())
        h = self.s.host
        for d in (self.checkpoints, self.savepoints, self.base / "tmp", self.base / "run"):
            d.mkdir(parents=True, exist_ok=True)
        python = sys.executable
        config = {
            "env": base.get("env", {}),
            "jobmanager": {
                "bind-host": h,
                "rpc": {"address": h, "port": self.s.flink_jobmanager_rpc_port},
                "memory": {"process": {"size": self.s.flink_jobmanager_memory}},
                "execution": {"failover-strategy": "region"},
            },
            "taskmanager": {
                "bind-host": h,
                "host": h,
                "numberOfTaskSlots": self.s.flink_taskmanager_slots,
                "memory": {"process": {"size": self.s.flink_taskmanager_memory}},
            },
            "parallelism": {"default": self.s.flink_taskmanagers * self.s.flink_taskmanager_slots},
            "rest": {"address": h, "bind-address": h, "port": self.s.flink_rest_port},
            "blob": {"server": {"port": str(self.s.flink_blob_port)}},
            "state": {"backend": {"type": "rocksdb", "incremental": True}},
            "execution": {
                "checkpointing": {
                    "interval": "5s",
                    "mode": "EXACTLY_ONCE",
                    "dir": self.checkpoints.as_uri(),
                    "savepoint-dir": self.savepoints.as_uri(),
                    "externalized-checkpoint-retention": "RETAIN_ON_CANCELLATION",
                },
            },
            "python": {
                "execution-mode": "thread",
                "executable": python,
                "client": {"executable": python},
            },
            "io": {"tmp": {"dirs": str(self.base / "tmp")}},
            "web": {"submit": {"enable": True}, "cancel": {"enable": True}},
            "classloader": {"parent-first-patterns": {"additional": "pemja."}},
        }
        (self.conf / "config.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
        (self.conf / "masters").write_text(f"{h}:{self.s.flink_rest_port}\n")
        (self.conf / "workers").write_text(f"{h}\n" * self.s.flink_taskmanagers)


def _rest(settings: Settings, path: str) -> dict:
    with urllib.request.urlopen(f"{settings.flink_url}{path}", timeout=2) as r:
        return json.loads(r.read())


class FlinkJobManager(Server):
    name = "flink-jobmanager"

    @property
    def ports(self) -> list[int]:
        return [self.s.flink_rest_port, self.s.flink_jobmanager_rpc_port, self.s.flink_blob_port]

    @property
    def dir(self) -> Path:
        return self.s.home / "flink"

    def install(self) -> None:
        flink_home()
        jars.ensure(self.s.home, "flink-connectors")
        operators_jar(self.s)

    def prepare(self) -> None:
        FlinkLayout(self.s).write()

    def command(self) -> tuple[list[str], dict[str, str]]:
        return [str(flink_home() / "bin" / "jobmanager.sh"), "start-foreground"], FlinkLayout(
            self.s
        ).env()

    def ready(self) -> bool:
        return "flink-version" in _rest(self.s, "/config")

    def version(self) -> str:
        return str(_rest(self.s, "/config")["flink-version"])


class FlinkTaskManager(Server):
    """TaskManager `number` of `flink_taskmanagers`: the first is `flink-taskmanager`, the
    next `flink-taskmanager-2`, ...; each registers under its name as resource id."""

    def __init__(self, settings: Settings, name: str = TASKMANAGER) -> None:
        super().__init__(settings)
        self.name = name  # one of python_code.taskmanager_names

    @property
    def ports(self) -> list[int]:
        return []  # its RPC and data ports are picked free by Flink

    @property
    def where(self) -> str:
        return f"the JobManager at {self.s.flink_url} ({self.name} not registered)"

    @property
    def dir(self) -> Path:
        return self.s.home / "flink"

    def install(self) -> None:
        operators_jar(self.s)

    def prepare(self) -> None:
        if not (FlinkLayout(self.s).conf / "config.yaml").exists():
            FlinkLayout(self.s).write()

    def command(self) -> tuple[list[str], dict[str, str]]:
        script = str(flink_home() / "bin" / "taskmanager.sh")
        argv = [script, "start-foreground", "-D", f"taskmanager.resource-id={self.name}"]
        return argv, FlinkLayout(self.s).env()

    def ready(self) -> bool:
        return self.registered()

    def after_start(self) -> None:
        mark_clean(self.s, self.name)  # a new process: no Python module loaded yet

    def registered(self) -> bool:
        """Whether the JobManager lists this TaskManager (by its resource id) with slots."""
        tms = _rest(self.s, "/taskmanagers").get("taskmanagers", [])
        return any(tm.get("id") == self.name and tm.get("slotsNumber", 0) >= 1 for tm in tms)

    def version(self) -> str:
        return str(_rest(self.s, "/config")["flink-version"])
