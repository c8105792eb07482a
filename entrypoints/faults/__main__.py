"""`python -m entrypoints.faults` (what `make faults` runs): every case, or those named."""

from __future__ import annotations

from typing import Annotated

import typer

from entrypoints import cluster_job
from entrypoints.faults.cases import CASES
from entrypoints.faults.suite import Traffic, report, run_suite
from hindsight.settings import get_settings

app = typer.Typer(add_completion=False)


@app.command()
def main(
    case: Annotated[
        list[str] | None,
        typer.Option(
            help=f"a case to run (repeatable; default all): {', '.join(c.name for c in CASES)}"
        ),
    ] = None,
    rate: Annotated[float, typer.Option(help="commands per second during each case")] = 20.0,
    seconds: Annotated[float, typer.Option(help="seconds of traffic per case")] = 15.0,
    backlog: Annotated[int, typer.Option(help="commands written before the first case")] = 1500,
    timeout: Annotated[float, typer.Option(help="seconds a case may take to recover")] = 300.0,
    keep: Annotated[
        bool, typer.Option(help="keep the deployment's topics, indices, labels")
    ] = False,
) -> None:
    """Break one part at a time under live traffic; exit 1 if any case loses, doubles or
    leaves stale anything, or does not recover."""
    stack = get_settings()
    names = case or [c.name for c in CASES]
    unknown = sorted(set(names) - {c.name for c in CASES})
    if unknown:
        raise typer.BadParameter(f"unknown cases {unknown}; known: {[c.name for c in CASES]}")
    others = [f"{j['name']} ({j['jid']})" for j in cluster_job.live_jobs(stack)]
    if others:  # a case kills the TaskManager and the servers: it would take these down too
        typer.echo(
            f"the Flink cluster runs other jobs: {', '.join(others)}. The fault suite breaks "
            "shared servers and needs the cluster's slots: stop them first (`hindsight job "
            "savepoint --stop`, or `make down` and `make faults` again).",
            err=True,
        )
        raise typer.Exit(2)
    traffic = Traffic(rate=rate, seconds=seconds, backlog=backlog)
    outcomes = run_suite(stack, names, traffic=traffic, timeout_s=timeout, keep=keep)
    n = {"cases": names, "commands_per_s": rate, "traffic_s": seconds, "backlog": backlog}
    report(outcomes, stack.home, n)
    if not all(o.passed for o in outcomes):
        raise typer.Exit(1)


if __name__ == "__main__":
    app()
