"""`hindsight job ...`: submit the projection job to the standalone cluster, savepoint, cancel.

Submission goes through `flink run -py` (the way a user submits PyFlink); the rest through
the JobManager's REST API.
"""

from __future__ import annotations

import json
import time
import urllib.request
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from entrypoints import generations
from hindsight.eventstore.factory import store_address
from hindsight.settings import REPO_ROOT, Settings, get_settings
from hindsight.topics import projection_job_name
from localstack.flink_cli import run_python_job
from localstack.python_code import ensure_current
from localstack.servers.flink import FlinkLayout
from localstack.stack import restart_taskmanager

console = Console()
job_app = typer.Typer(
    help="The PyFlink projection job on the local Flink cluster.", no_args_is_help=True
)
JOB_FILE = REPO_ROOT / "jobs" / "projections.py"


def _rest(
    s: Settings, path: str, body: dict[str, Any] | None = None, method: str | None = None
) -> Any:
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(
        f"{s.flink_url}{path}",
        data=data,
        method=method,
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(req, timeout=10) as r:
        raw = r.read()
        return json.loads(raw) if raw else None


def live_jobs(s: Settings) -> list[dict[str, Any]]:
    jobs = _rest(s, "/jobs/overview")["jobs"]
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
    path = _submitted_file(s)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps([*submitted_jobs(s), job_id]))
    tmp.replace(path)


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


def wait_running(s: Settings, job_id: str, timeout_s: float = 120) -> None:
    """Until every task of the job is RUNNING (the sources have started reading)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        job = _rest(s, f"/jobs/{job_id}")
        if job["state"] in ("FAILED", "CANCELED", "FINISHED"):
            raise RuntimeError(f"job {job_id} is {job['state']}; see `make logs S=flink`")
        if job["state"] == "RUNNING" and all(v["status"] == "RUNNING" for v in job["vertices"]):
            return
        time.sleep(1)
    raise RuntimeError(f"job {job_id} not running after {timeout_s:.0f} s")


@job_app.command("submit")
def submit_cmd(
    from_savepoint: Annotated[str | None, typer.Option("--from", help="savepoint path")] = None,
    parallelism: Annotated[int | None, typer.Option(help="default: the cluster's (2)")] = None,
    fresh: Annotated[
        bool, typer.Option(help="ignore retained checkpoints: empty state, log from the start")
    ] = False,
) -> None:
    """Submit jobs/projections.py to the cluster (no-op when it already runs); resumes from
    the latest retained checkpoint unless --from or --fresh says otherwise."""
    s = generations.live(get_settings())
    job_id = submit(s, from_savepoint=from_savepoint, parallelism=parallelism, fresh=fresh)
    wait_running(s, job_id)
    console.print(f"projection job running: {job_id}  ({s.flink_url}/#/job/running/{job_id})")


@job_app.command("savepoint")
def savepoint_cmd(
    stop: Annotated[bool, typer.Option(help="stop the job after the savepoint")] = False,
) -> None:
    """Take a savepoint of the running projection job and print its path."""
    s = generations.live(get_settings())
    jobs = running_jobs(s)
    if not jobs:
        console.print("[red]error:[/] no projection job is running")
        raise typer.Exit(1)
    jid = jobs[0]["jid"]
    target = (s.home / "flink" / "savepoints").as_uri()
    path = "stop" if stop else "savepoints"
    trigger = _rest(
        s,
        f"/jobs/{jid}/{path}",
        {"targetDirectory": target, "cancel-job": False, "formatType": "CANONICAL"},
        method="POST",
    )
    request_id = trigger["request-id"]
    for _ in range(300):
        status = _rest(s, f"/jobs/{jid}/savepoints/{request_id}")
        if status["status"]["id"] == "COMPLETED":
            op = status["operation"]
            if "failure-cause" in op:
                console.print(f"[red]savepoint failed:[/] {op['failure-cause']}")
                raise typer.Exit(1)
            console.print(op["location"])
            return
        time.sleep(1)
    console.print("[red]error:[/] savepoint did not complete in 300 s")
    raise typer.Exit(1)


@job_app.command("cancel")
def cancel_cmd() -> None:
    """Cancel the running projection job (its last checkpoint is retained)."""
    s = generations.live(get_settings())
    for job in running_jobs(s):
        _rest(s, f"/jobs/{job['jid']}", method="PATCH")
        console.print(f"cancelled {job['jid']}")
