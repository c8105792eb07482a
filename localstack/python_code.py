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
from typing import Any

from hindsight.settings import REPO_ROOT, Settings
from localstack import process
from localstack.server import pid_file_of
from localstack.settings import stack_settings

# what a job's Python workers import or read: the job, the platform, the domains, plug-ins
PACKAGES = ("jobs", "pipelines", "hindsight", "commerce", "connectors", "examples")
JAVA = ("jobs/java",)  # the job's own Java operators: a new jar needs fresh TaskManagers too
CONTRACTS = ("data-products",)


def fingerprint(root: Path = REPO_ROOT) -> str:
    digest = hashlib.sha256()
    files: list[Path] = []
    for package in PACKAGES:
        files += (root / package).rglob("*.py")
    for folder in CONTRACTS:
        files += (root / folder).rglob("*.yaml")
    for folder in JAVA:
        files += (root / folder).rglob("*.java")
    for path in sorted(files):
        digest.update(str(path.relative_to(root)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


TASKMANAGER = "flink-taskmanager"  # the first TaskManager's server name; others add -2, -3...


def taskmanager_names(settings: Settings) -> list[str]:
    """The server names of the TaskManagers the launcher runs (HINDSIGHT_FLINK_TASKMANAGERS)."""
    count = max(1, stack_settings(settings).flink_taskmanagers)
    return [TASKMANAGER, *(f"{TASKMANAGER}-{n}" for n in range(2, count + 1))]


def _held(settings: Settings) -> dict[str, Any]:
    try:
        held = json.loads(record_file(settings).read_text())
    except (OSError, ValueError):
        return {}
    return held if isinstance(held, dict) else {}


def _write(settings: Settings, held: dict[str, Any]) -> None:
    path = record_file(settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(held))


def mark_clean(settings: Settings, name: str = TASKMANAGER) -> None:
    """Called when the launcher started TaskManager `name`: its interpreter has loaded nothing."""
    tm = process.read_pid(pid_file_of(settings, name))
    if tm is not None:
        held = _held(settings)
        held[name] = {"process": [tm.pid, tm.start_ticks], "code": None}
        _write(settings, held)


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
    """Make every TaskManager fit to run the current code; True when they were restarted.

    `running_jobs` lists the cluster's running job names; `restart` restarts the
    TaskManagers. A TaskManager the launcher did not start is left alone.
    """
    names = [n for n in taskmanager_names(settings) if _alive(settings, n)]
    if not names:
        return False
    code = code or fingerprint()
    held = _held(settings)

    def current(name: str) -> bool:
        tm = process.read_pid(pid_file_of(settings, name))
        entry = held.get(name) or {}
        same_process = tm is not None and entry.get("process") == [tm.pid, tm.start_ticks]
        return same_process and entry.get("code") in (None, code)

    restarted = False
    if not all(current(n) for n in names):
        # one has run other code, or we cannot tell (started before this guard): restart
        jobs = list(running_jobs())
        if jobs:
            raise StaleTaskManager(
                f"the TaskManager may hold Python code other than the working copy (jobs "
                f"{', '.join(jobs)} run on it) and PyFlink cannot reload it: cancel those "
                "jobs (`hindsight job cancel`) and submit again, or restart the cluster"
            )
        restart()
        restarted = True
        names = [n for n in taskmanager_names(settings) if _alive(settings, n)]
    for name in names:
        tm = process.read_pid(pid_file_of(settings, name))
        assert tm is not None
        held[name] = {"process": [tm.pid, tm.start_ticks], "code": code}
    _write(settings, held)
    return restarted


def _alive(settings: Settings, name: str) -> bool:
    return process.alive(process.read_pid(pid_file_of(settings, name)))
