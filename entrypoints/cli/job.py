"""`hindsight job ...`: submit the projection job to the standalone cluster, savepoint, cancel
(the operations themselves are entrypoints.cluster_job's)."""

from __future__ import annotations

import time
from typing import Annotated

import typer
from rich.console import Console

from entrypoints import generations
from entrypoints.cluster_job import rest, running_jobs, submit, wait_running
from hindsight.settings import get_settings

console = Console()
job_app = typer.Typer(
    help="The PyFlink projection job on the local Flink cluster.", no_args_is_help=True
)


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
    trigger = rest(
        s,
        f"/jobs/{jid}/{path}",
        {"targetDirectory": target, "cancel-job": False, "formatType": "CANONICAL"},
        method="POST",
    )
    request_id = trigger["request-id"]
    for _ in range(300):
        status = rest(s, f"/jobs/{jid}/savepoints/{request_id}")
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
        rest(s, f"/jobs/{job['jid']}", method="PATCH")
        console.print(f"cancelled {job['jid']}")
