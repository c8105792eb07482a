"""The projection job on the standalone Flink cluster: submit (resuming from the latest
retained checkpoint), wait, list, cancel. The CLI (`hindsight job ...`), the demo, rebuilds,
the fault suite and the benchmarks all go through here.

Submission goes through `flink run -py` (the way a user submits PyFlink); the rest through
the JobManager's REST API.
"""

from __future__ import annotations

import json
import time
import urllib.request
from pathlib import Path
from typing import Any

from rich.console import Console

from hindsight.eventstore.factory import store_address
from hindsight.files import write_atomically
from hindsight.settings import REPO_ROOT, Settings, get_settings
from hindsight.topics import projection_job_name
from localstack.flink_cli import run_python_job
from localstack.python_code import ensure_current
from localstack.servers.flink import FlinkLayout
from localstack.stack import restart_taskmanager

console = Console()
JOB_FILE = REPO_ROOT / "jobs" / "projections.py"


def rest(
    s: Settings, path: str, body: dict[str, Any] | None = None, method: str | None = None
) -> Any:
    return rest_at(s.flink_url, path, body, method)


def rest_at(
    url: str, path: str, body: dict[str, Any] | None = None, method: str | None = None
) -> Any:
    """Flink's REST API at `url`: the cluster's, or a mini-cluster's (a rebuild's build)."""
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(
        f"{url}{path}",
        data=data,
        method=method,
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(req, timeout=10) as r:
        raw = r.read()
        return json.loads(raw) if raw else None


def live_jobs(s: Settings) -> list[dict[str, Any]]:
    jobs = rest(s, "/jobs/overview")["jobs"]
    return [j for j in jobs if j["state"] in ("RUNNING", "CREATED", "RESTARTING")]


def running_jobs(s: Settings, name: str | None = None) -> list[dict[str, Any]]:
    name = name or job_name(s)
    return [j for j in live_jobs(s) if j["name"] == name]


def job_name(s: Settings) -> str:
    return projection_job_name(s.kafka_topic_prefix)


def _submitted_file(s: Settings) -> Path:
    return FlinkLayout(s).base / "submitted" / f"{job_name(s)}.json"


def submitted_jobs(s: Settings) -> list[str]:
    """The ids this deployment's job has had, oldest first. The JobManager forgets them when
    it dies; the checkpoints it retained are filed under them."""
    try:
        return list(json.loads(_submitted_file(s).read_text()))
    except (OSError, ValueError):
        return []


def _record_submitted(s: Settings, job_id: str) -> None:
    write_atomically(_submitted_file(s), json.dumps([*submitted_jobs(s), job_id]))


def latest_checkpoint(s: Settings) -> Path | None:
    """The newest completed checkpoint (one with `_metadata`) of this deployment's job, from
    its most recent run that has one: where a job lost with its JobManager resumes."""
    base = FlinkLayout(s).checkpoints
    for job_id in reversed(submitted_jobs(s)):
        done = [m.parent for m in (base / job_id).glob("chk-*/_metadata")]
        if done:
            return max(done, key=lambda d: int(d.name.removeprefix("chk-")))
    return None


def submit(
    s: Settings,
    *,
    from_savepoint: str | None = None,
    parallelism: int | None = None,
    extra: list[str] | None = None,
    fresh: bool = False,
    env: dict[str, str] | None = None,
) -> str:
    """Submit the job unless it runs. Without a savepoint it resumes from its latest retained
    checkpoint (keyed state and Kafka offsets together), so a job lost with its JobManager
    goes on where it was; `fresh` starts from empty state and the log's first record. `env`:
    HINDSIGHT_* settings for the job's client beyond this process's (another deployment's)."""

    existing = running_jobs(s)
    if existing:
        return str(existing[0]["jid"])
    resuming = False
    if from_savepoint is None and not fresh:
        checkpoint = latest_checkpoint(s)
        if checkpoint is not None:
            from_savepoint, resuming = str(checkpoint), True
            console.print(f"resuming from the latest retained checkpoint {checkpoint}")
    stack = get_settings()  # the launcher's state dir, even when `s` is a test's namespace
    live = lambda: [j["name"] for j in live_jobs(s)]  # noqa: E731 - a callback
    if ensure_current(stack, live, lambda: restart_taskmanager(stack)):
        console.print("restarted the TaskManager: its Python held older code")
    # the store whose keys open sealed fields: `s`'s (a namespace's env does not name it)
    args = ["--event-store", store_address(s, s.eventstore_backend), *(extra or [])]
    result = run_python_job(
        s,
        JOB_FILE,
        args,
        detached=True,
        from_savepoint=from_savepoint,
        parallelism=parallelism,
        timeout_s=300,
        env={**s.namespace_env(), **(env or {})},  # the job's client sees this deployment
    )
    for line in result.stdout.splitlines():
        if "JobID" in line:
            job_id = line.split()[-1]
            _record_submitted(s, job_id)
            return job_id
    if resuming and _OLDER_GRAPH in result.stdout + result.stderr:
        # a checkpoint of an older version of the job (README, "Moving a deployment"): the
        # read models are a projection of the log, so rebuild them from its first record;
        # the sinks' version guards keep every document at its newest version meanwhile
        console.print(
            f"[yellow]the retained checkpoint {from_savepoint} was taken by an older version "
            "of the job; starting fresh from the log's first record[/]"
        )
        return submit(s, parallelism=parallelism, extra=extra, fresh=True, env=env)
    raise RuntimeError(f"flink run failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}")


_OLDER_GRAPH = "Cannot map checkpoint/savepoint state for operator"


def wait_running(
    s: Settings, job_id: str, timeout_s: float = 120, slots_grace_s: float = 15
) -> None:
    """Until every task of the job is RUNNING (the sources have started reading). A job that
    waits for slots other jobs hold is said at once (after `slots_grace_s`), with their names,
    instead of after the whole timeout."""
    started = time.monotonic()
    deadline = started + timeout_s
    while time.monotonic() < deadline:
        job = rest(s, f"/jobs/{job_id}")
        if job["state"] in ("FAILED", "CANCELED", "FINISHED"):
            raise RuntimeError(f"job {job_id} is {job['state']}; see `make logs S=flink`")
        if job["state"] == "RUNNING" and all(v["status"] == "RUNNING" for v in job["vertices"]):
            return
        if time.monotonic() - started > slots_grace_s:
            _no_slots_for(s, job_id)
        time.sleep(1)
    raise RuntimeError(f"job {job_id} not running after {timeout_s:.0f} s")


def _no_slots_for(s: Settings, job_id: str) -> None:
    overview = rest(s, "/overview")
    others = [f"{j['name']} ({j['jid']})" for j in live_jobs(s) if j["jid"] != job_id]
    if overview.get("slots-available", 1) == 0 and others:
        raise RuntimeError(
            f"job {job_id} waits for task slots: the cluster's {overview.get('slots-total')} "
            f"are held by {', '.join(others)}. Cancel what should not run (`hindsight job "
            "cancel` cancels this deployment's; e.g. the job `make demo` left running) or add "
            "TaskManagers (HINDSIGHT_FLINK_TASKMANAGERS)"
        )


def cancel(s: Settings, job_id: str, timeout_s: float = 60) -> None:
    """Cancel a job and wait until it is gone from the slots (its checkpoint is retained)."""
    rest(s, f"/jobs/{job_id}", method="PATCH")
    deadline = time.monotonic() + timeout_s
    while rest(s, f"/jobs/{job_id}")["state"] not in ("CANCELED", "FAILED", "FINISHED"):
        if time.monotonic() > deadline:
            raise RuntimeError(f"job {job_id} not cancelled after {timeout_s:.0f} s")
        time.sleep(0.5)
