"""The projection job on a mini-cluster of its own, in a child process (`projections.py
--local`): no slot of the standalone cluster is needed, and a bounded job's process ends when
the job does. Replays, the pipeline benchmark and the end-to-end tests start it this one way."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

from entrypoints import namespace
from hindsight.eventstore.factory import store_address
from hindsight.settings import REPO_ROOT, Settings


class LocalJob:
    """`args` go to the job; `env` adds to (or overrides) the namespace's environment. The
    job opens sealed fields with the keys of `s`'s event store (named on its command line:
    the namespace's environment does not say which store it is)."""

    def __init__(
        self, s: Settings, args: list[str], log: Path, env: Mapping[str, str] | None = None
    ) -> None:
        log.parent.mkdir(parents=True, exist_ok=True)
        self.log = log
        with open(log, "w") as out:
            self.proc = subprocess.Popen(
                [sys.executable, str(REPO_ROOT / "jobs" / "projections.py"), "--local",
                 "--event-store", store_address(s, s.eventstore_backend), *args],
                env={**namespace.env_of(s), **(env or {})}, cwd=REPO_ROOT, stdout=out,
                stderr=subprocess.STDOUT, start_new_session=True,
            )  # fmt: skip

    def state(self) -> str:
        rc = self.proc.poll()
        if rc is None:
            return "RUNNING"
        return "FINISHED" if rc == 0 else f"FAILED (exit {rc}; see {self.log})"

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
