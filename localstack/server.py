"""What every local server is to the launcher: how to prepare it, start it, and ask it if it is up.

Each server answers readiness in its own protocol (a Kafka metadata request, an HTTP health
call, a Bolt handshake, a SQL query), not by an open port alone: a JVM binds its port long
before it can serve.
"""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path

from hindsight.settings import Settings
from localstack import process
from localstack.settings import stack_settings


class StartError(RuntimeError):
    """A server did not come up; the message names the server, the port and the log file."""


@dataclass
class Status:
    name: str
    state: str
    version: str
    ports: str
    pid: str
    rss: str
    log: str


def pid_file_of(settings: Settings, name: str) -> Path:
    """Where the launcher records a server's process (one place: the launcher and the code
    guard read the same file)."""
    return settings.home / "pids" / f"{name}.pid"


class Server(ABC):
    name: str

    def __init__(self, settings: Settings) -> None:
        self.s = stack_settings(settings)

    # -- paths -----------------------------------------------------------------------------
    @property
    def dir(self) -> Path:
        return self.s.home / self.name

    @property
    def pid_file(self) -> Path:
        return pid_file_of(self.s, self.name)

    @property
    def log_file(self) -> Path:
        return self.s.home / "logs" / f"{self.name}.log"

    # -- what each server defines ------------------------------------------------------------
    @property
    @abstractmethod
    def ports(self) -> list[int]:
        """Ports the server binds (the first is the one users talk to)."""

    @abstractmethod
    def install(self) -> None:
        """Fetch what the server needs (jars, packages); cheap when already done."""

    @abstractmethod
    def prepare(self) -> None:
        """Write config and initialise data on a first start; idempotent."""

    @abstractmethod
    def command(self) -> tuple[list[str], dict[str, str]]:
        """argv and environment of the server process."""

    @abstractmethod
    def ready(self) -> bool:
        """True once the server answers its own protocol."""

    @abstractmethod
    def version(self) -> str: ...

    def after_start(self) -> None:  # noqa: B027 - optional hook, most servers need nothing
        """Provision users, databases, ... once the server is ready; idempotent."""

    @property
    def where(self) -> str:
        if not self.ports:
            return "its control channel"
        return "port " + ", ".join(f"{self.s.host}:{p}" for p in self.ports)

    # -- shared behaviour --------------------------------------------------------------------
    def running(self) -> bool:
        return process.alive(process.read_pid(self.pid_file))

    def start(self) -> None:
        if self.running():
            return
        for port in self.ports:
            if not process.port_free(self.s.host, port):
                raise StartError(
                    f"{self.name}: port {self.s.host}:{port} is already taken by another "
                    f"process (not started by Hindsight); free it or override the port"
                )
        self.prepare()
        argv, env = self.command()
        self.log_file.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log_file, "a") as log:
            log.write(f"\n==== hindsight: starting {self.name} at {time.ctime()}\n")
        process.spawn(argv, log=self.log_file, pid_file=self.pid_file, env=env, cwd=self.dir)

    def wait_ready(self, timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if not self.running():
                raise StartError(
                    f"{self.name}: process exited before answering on {self.where}; "
                    f"see {self.log_file}"
                )
            try:
                if self.ready():
                    self.after_start()
                    return
            except Exception:  # noqa: BLE001 - not ready yet; the deadline decides
                pass
            time.sleep(0.5)
        raise StartError(
            f"{self.name}: no answer on {self.where} after {timeout_s:.0f} s; see {self.log_file}"
        )

    def stop(self) -> bool:
        return process.stop(self.pid_file)

    def status(self) -> Status:
        record = process.read_pid(self.pid_file)
        up = process.alive(record)
        state = "down"
        version = "-"
        if up:
            try:
                state = "up" if self.ready() else "starting"
            except Exception:  # noqa: BLE001
                state = "starting"
            if state == "up":
                try:
                    version = self.version()
                except Exception:  # noqa: BLE001
                    version = "?"
        rss = process.rss_mib(record.pid) if up and record else None
        return Status(
            name=self.name,
            state=state,
            version=version,
            ports=",".join(str(p) for p in self.ports),
            pid=str(record.pid) if up and record else "-",
            rss=f"{rss:.0f} MiB" if rss else "-",
            log=str(self.log_file),
        )
