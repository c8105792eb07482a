"""Hindsight's own long-running processes (the HTTP service, the relay) run in the background
like the servers do: pid file with start time, log file, stopped by pid and nothing else."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from hindsight.settings import Settings
from localstack import process


@dataclass(frozen=True)
class Background:
    name: str
    argv: list[str]
    ready: Callable[[], bool]

    def pid_file(self, s: Settings) -> Path:
        return s.home / "pids" / f"{self.name}.pid"

    def log_file(self, s: Settings) -> Path:
        return s.home / "logs" / f"{self.name}.log"

    def running(self, s: Settings) -> bool:
        return process.alive(process.read_pid(self.pid_file(s)))

    def start(
        self, s: Settings, timeout_s: float = 60.0, env: dict[str, str] | None = None
    ) -> bool:
        """Start unless running; wait until ready. True if this call started it. `env`: the
        process's whole environment (default: this one's), e.g. another deployment's."""
        if self.running(s):
            return False
        process.spawn(self.argv, log=self.log_file(s), pid_file=self.pid_file(s), env=env)
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if not self.running(s):
                raise RuntimeError(f"{self.name} exited at start; see {self.log_file(s)}")
            try:
                if self.ready():
                    return True
            except Exception:  # noqa: BLE001 - not ready yet
                pass
            time.sleep(0.3)
        self.stop(s)
        raise RuntimeError(f"{self.name} not ready after {timeout_s:.0f} s; see {self.log_file(s)}")

    def stop(self, s: Settings) -> bool:
        return process.stop(self.pid_file(s), timeout_s=20)


def service(s: Settings) -> Background:
    import httpx

    def ready() -> bool:
        return httpx.get(f"{s.service_url}/health", timeout=2).status_code == 200

    argv = [
        sys.executable,
        "-m",
        "uvicorn",
        "entrypoints.service.main:app",
        "--host",
        s.host,
        "--port",
        str(s.service_port),
        "--no-access-log",
    ]
    return Background("service", argv, ready)


def relay(s: Settings) -> Background:
    argv = [sys.executable, "-m", "entrypoints.cli", "relay", "run"]
    return Background("relay", argv, lambda: True)


def sink(s: Settings, name: str) -> Background:
    argv = [sys.executable, "-m", "entrypoints.cli", "sink", "run", name]
    return Background(f"sink-{name}", argv, lambda: True)
