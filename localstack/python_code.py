"""Keep the standalone TaskManager's Python code current across job submissions.

In thread mode (our default) PyFlink runs Python inside the TaskManager's JVM through pemja,
and CPython exists once per process: `sys.modules` outlives every job. A job submitted after
the code changed therefore runs the modules the *first* job imported (or fails to unpickle
its functions: "Can't get attribute 'X' on <module ...>"). Process mode would not have this,
but costs throughput (see benchmarks/bench_pipeline.py).

So the launcher remembers which code (a fingerprint of every Python file and data contract
the job imports) the TaskManager process it started has seen. Submitting other code to a
TaskManager that has loaded some (or may have: one started before this guard) restarts it
first, when no job is running on it; with a job running, the submission is refused with
what to do.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Iterable
from pathlib import Path

from hindsight.settings import REPO_ROOT, Settings
from localstack import process

# what a job's Python workers import or read: the job, the platform, the domains, plug-ins
PACKAGES = ("jobs", "pipelines", "hindsight", "commerce", "connectors", "examples")
CONTRACTS = ("data-products",)


def fingerprint(root: Path = REPO_ROOT) -> str:
    digest = hashlib.sha256()
    files: list[Path] = []
    for package in PACKAGES:
        files += (root / package).rglob("*.py")
    for folder in CONTRACTS:
        files += (root / folder).rglob("*.yaml")
    for path in sorted(files):
        digest.update(str(path.relative_to(root)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def restart_taskmanager(settings: Settings, timeout_s: float = 60) -> None:
    """Stop the TaskManager, wait until the JobManager has let its slots go (so no job is
    scheduled onto the dead one), start a fresh one and wait until it offers slots."""
    from localstack import stack
    from localstack.servers.flink import FlinkTaskManager

    stack.down(settings, ["flink-taskmanager"], progress=lambda _m: None)
    tm = FlinkTaskManager(settings)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if not tm.registered():
            break
        time.sleep(0.5)
    stack.up(settings, ["flink-taskmanager"], progress=lambda _m: None)


def mark_clean(settings: Settings) -> None:
    """Called when the launcher started a TaskManager: its interpreter has loaded nothing."""
    from localstack.servers.flink import FlinkTaskManager

    tm = process.read_pid(FlinkTaskManager(settings).pid_file)
    if tm is not None:
        path = record_file(settings)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps({"taskmanager": [tm.pid, tm.start_ticks], "code": None}))


class StaleTaskManager(RuntimeError):
    """The TaskManager holds other code and cannot be restarted now."""


def record_file(settings: Settings) -> Path:
    return settings.home / "flink" / "taskmanager-python-code.json"


def ensure_current(
    settings: Settings,
    running_jobs: Callable[[], Iterable[str]],
    restart: Callable[[], None],
    *,
    code: str | None = None,
) -> bool:
    """Make the TaskManager fit to run the current code; True when it was restarted.

    `running_jobs` lists the cluster's running job names; `restart` restarts the
    TaskManager. A TaskManager the launcher did not start is left alone.
    """
    from localstack.servers.flink import FlinkTaskManager

    pid_file = FlinkTaskManager(settings).pid_file
    tm = process.read_pid(pid_file)
    if not process.alive(tm):
        return False
    assert tm is not None
    code = code or fingerprint()
    path = record_file(settings)
    try:
        held = json.loads(path.read_text())
    except (OSError, ValueError):
        held = {}
    restarted = False
    same_process = held.get("taskmanager") == [tm.pid, tm.start_ticks]
    if not (same_process and held.get("code") in (None, code)):
        # it has run other code, or we cannot tell (started before this guard): restart it
        jobs = list(running_jobs())
        if jobs:
            raise StaleTaskManager(
                f"the TaskManager may hold Python code other than the working copy (jobs "
                f"{', '.join(jobs)} run on it) and PyFlink cannot reload it: cancel those "
                "jobs (`hindsight job cancel`) and submit again, or restart the cluster"
            )
        restart()
        restarted = True
        tm = process.read_pid(pid_file)
        assert tm is not None
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"taskmanager": [tm.pid, tm.start_ticks], "code": code}))
    return restarted
