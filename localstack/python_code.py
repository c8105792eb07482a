"""Keep the standalone TaskManager's Python code current across job submissions.

In thread mode (our default) PyFlink runs Python inside the TaskManager's JVM through pemja,
and CPython exists once per process: `sys.modules` outlives every job. A job submitted after
the code changed therefore runs the modules the *first* job imported (or fails to unpickle
its functions: "Can't get attribute 'X' on <module ...>"). Process mode would not have this,
but costs throughput (see benchmarks/bench_pipeline.py).

So the launcher remembers which code (a fingerprint of every Python file and data contract
the job imports) the TaskManager process it started has seen. Submitting other code to a
TaskManager that has loaded some (or may have: one started before this guard) restarts it
first (`localstack.stack.restart_taskmanager`), when no job is running on it; with a job
running, the submission is refused with what to do.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable
from pathlib import Path

from hindsight.settings import REPO_ROOT, Settings
from localstack import process
from localstack.server import pid_file_of

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


TASKMANAGER = "flink-taskmanager"  # the server whose interpreter this guards


def mark_clean(settings: Settings) -> None:
    """Called when the launcher started a TaskManager: its interpreter has loaded nothing."""
    tm = process.read_pid(pid_file_of(settings, TASKMANAGER))
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
    pid_file = pid_file_of(settings, TASKMANAGER)
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
