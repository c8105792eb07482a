"""A private deployment on the shared servers: its own state dir (event store, pid files,
logs, checkpoints), topics, indices, labels and service port, so a fault case can kill its
processes without touching anyone else's, and the servers it shares are restarted by the
launcher exactly as `make up` starts them."""

from __future__ import annotations

import contextlib
import os
import signal
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from entrypoints import background, bootstrap, cluster_job, namespace, workload
from hindsight.settings import Settings
from hindsight.topics import SINKS
from localstack import process, stack
from localstack.server import Server

PROCESSES = ("service", "relay", *(f"sink-{name}" for name in SINKS))


@dataclass
class Deployment:
    stack: Settings  # the launcher's: the servers and the Flink cluster
    s: Settings  # this deployment's
    job_id: str = ""
    commands: Iterator[tuple[str, dict[str, Any]]] | None = None
    sent: int = 0  # commands sent so far (idempotency keys stay unique across cases)
    traffic_errors: list[str] = field(default_factory=list)

    @classmethod
    def create(cls, stack_settings: Settings, *, service_port: int = 8100) -> Deployment:
        tag = uuid.uuid4().hex[:6]
        s = stack_settings.model_copy(
            update={
                "home": stack_settings.home / "faults" / tag,
                "kafka_topic_prefix": f"faults-{tag}",
                "es_alias_prefix": f"faults-{tag}-",
                "neo4j_label_prefix": f"F{tag}",
                "postgres_table_prefix": f"f{tag}_",
                "service_port": service_port,
            }
        )
        s.home.mkdir(parents=True, exist_ok=True)
        return cls(stack_settings, s)

    def env(self) -> dict[str, str]:
        """The environment that makes a process see this deployment's settings."""
        return {
            **namespace.env_of(self.s),
            "HINDSIGHT_HOME": str(self.s.home),
            "HINDSIGHT_SERVICE_PORT": str(self.s.service_port),
        }

    # ------------------------------------------------------------------ processes

    def process(self, name: str) -> background.Background:
        if name == "service":
            return background.service(self.s)
        if name == "relay":
            return background.relay(self.s)
        return background.sink(self.s, name.removeprefix("sink-"))

    def start(self, name: str) -> None:
        self.process(name).start(self.s, env=self.env())

    def kill(self, name: str) -> int:
        """SIGKILL one of this deployment's processes (by its pid record); returns the pid."""
        return _kill(self.process(name).pid_file(self.s))

    def log_of(self, name: str) -> str:
        try:
            return self.process(name).log_file(self.s).read_text(errors="replace")
        except OSError:
            return ""

    def start_all(self) -> None:
        for name in PROCESSES:
            self.start(name)
        self.submit()

    def submit(self) -> str:
        hindsight_env = {k: v for k, v in self.env().items() if k.startswith("HINDSIGHT_")}
        self.job_id = cluster_job.submit(self.s, env=hindsight_env)
        cluster_job.wait_running(self.s, self.job_id, timeout_s=180)
        return self.job_id

    def job_state(self) -> str:
        try:
            return str(cluster_job.rest(self.s, f"/jobs/{self.job_id}")["state"])
        except Exception as err:  # noqa: BLE001 - a JobManager that is down answers nothing
            return f"unknown ({type(err).__name__})"

    def stop_all(self) -> None:
        if self.job_id:
            with contextlib.suppress(Exception):  # the JobManager may be gone with its job
                cluster_job.rest(self.s, f"/jobs/{self.job_id}", method="PATCH")
        for name in PROCESSES:
            self.process(name).stop(self.s)

    def cleanup(self) -> None:
        """Delete what the deployment wrote to the shared servers."""
        namespace.wipe(self.s)

    # ------------------------------------------------------------------ servers

    def server(self, name: str) -> Server:
        (found,) = stack.select(self.stack, [name])
        return found

    def kill_server(self, name: str) -> int:
        return _kill(self.server(name).pid_file)

    def stop_server(self, name: str) -> None:
        self.server(name).stop()

    def start_server(self, name: str) -> None:
        server = self.server(name)
        server.start()
        server.wait_ready(server.s.start_timeout_s)

    # ------------------------------------------------------------------ traffic

    def traffic(self, commands: int, rate: float | None, run: str) -> threading.Thread:
        """`commands` commands at `rate` per second (None: as fast as the service answers)
        through the service, in the background,
        continuing the workload where the last traffic stopped."""
        domain = bootstrap.load_domain(self.s.domain)
        if self.commands is None:
            assert domain.workload is not None, f"{domain.name} has no workload generator"
            self.commands = domain.workload(7, 50_000)

        def send() -> None:
            try:
                stats = workload.run_http(
                    self.s.service_url,
                    domain,
                    self.commands,  # type: ignore[arg-type]
                    events=10**9,
                    run_id=f"{self.s.kafka_topic_prefix}-{run}",
                    rate=rate,
                    max_commands=commands,
                )
                self.sent += stats.commands
            except Exception as err:  # noqa: BLE001 - reported with the case
                self.traffic_errors.append(f"{run}: {err}")

        thread = threading.Thread(target=send, name=f"traffic-{run}", daemon=True)
        thread.start()
        return thread


def _kill(pid_file: Any) -> int:
    record = process.read_pid(pid_file)
    if not process.alive(record):
        raise RuntimeError(f"nothing to kill: {pid_file} names no live process")
    assert record is not None
    # spawned in a session of its own: the group holds the process and its children
    os.killpg(record.pid, signal.SIGKILL)
    while process.alive(record):
        time.sleep(0.05)
    return record.pid
