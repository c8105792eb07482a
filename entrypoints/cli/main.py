"""The `hindsight` command line: one entry point for the stack and, later, the platform."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from entrypoints.cli import demo as cli_demo
from entrypoints.cli import domain as cli_domain
from entrypoints.cli import job as cli_job
from entrypoints.cli import ops as cli_ops
from entrypoints.cli import query as cli_query
from entrypoints.cli import rebuild as cli_rebuild
from entrypoints.cli import replay as cli_replay
from entrypoints.cli.contracts import contracts_app
from hindsight.settings import get_settings
from localstack import stack

app = typer.Typer(help="Hindsight: an event-sourced data platform.", no_args_is_help=True)
stack_app = typer.Typer(
    help="The local servers: Kafka, Flink, Elasticsearch, Neo4j, PostgreSQL.", no_args_is_help=True
)
app.add_typer(stack_app, name="stack")


def _mount_platform() -> None:

    app.add_typer(cli_ops.service_app, name="service")
    app.add_typer(contracts_app, name="contracts")
    app.add_typer(cli_job.job_app, name="job")
    app.command("search")(cli_query.search)
    app.command("orders")(cli_query.orders)
    app.command("status")(cli_query.status)
    app.command("demo")(cli_demo.demo)
    app.add_typer(cli_query.graph_app, name="graph")
    app.add_typer(cli_replay.replay_app, name="replay")
    app.add_typer(cli_rebuild.rebuild_app, name="rebuild")
    app.add_typer(cli_ops.relay_app, name="relay")
    app.add_typer(cli_ops.store_app, name="store")
    app.add_typer(cli_ops.sink_app, name="sink")
    app.command("generate")(cli_ops.generate)
    cli_domain.register_domain_commands()
    app.add_typer(cli_domain.do_app, name="do")
    app.command("get")(cli_domain.get)
    app.command("history")(cli_domain.history)


_mount_platform()
console = Console(width=max(Console().width, 110))

Names = Annotated[list[str] | None, typer.Argument(help="servers (default: all)")]


def _fail(err: Exception) -> None:
    console.print(f"[bold red]error:[/] {err}")
    raise typer.Exit(1)


@stack_app.command("install")
def stack_install(names: Names = None) -> None:
    """Fetch every server's jars and packages into the state dir."""

    try:
        stack.install(get_settings(), names, progress=console.print)
    except Exception as err:  # noqa: BLE001
        _fail(err)


@stack_app.command("up")
def stack_up(
    names: Names = None,
    started_file: Annotated[
        Path | None,
        typer.Option(
            help="append the names of the servers this call started (a test run stops only those)"
        ),
    ] = None,
) -> None:
    """Start the servers on 127.0.0.1 and wait until each answers its own protocol."""

    started: list[str] = []
    try:
        with console.status("starting servers"):
            started = stack.up(get_settings(), names, progress=console.print)
    except Exception as err:  # noqa: BLE001
        _fail(err)
    finally:
        if started_file is not None:
            started_file.parent.mkdir(parents=True, exist_ok=True)
            with started_file.open("a") as f:
                f.writelines(f"{name}\n" for name in started)


@stack_app.command("down")
def stack_down(
    names: Names = None,
    only_file: Annotated[
        Path | None,
        typer.Option(
            help="stop only the servers listed in this file (written by `up --started-file`)"
        ),
    ] = None,
) -> None:
    """Stop the servers this project started (by pid), leaving nothing listening."""

    if only_file is not None:
        if not only_file.exists():
            return
        names = sorted(set(only_file.read_text().split()))
        only_file.unlink()
        if not names:
            return
    stack.down(get_settings(), names, progress=console.print)


@stack_app.command("status")
def stack_status() -> None:
    """A table of each server: state, version, ports, pid, memory, log."""

    table = Table(title=f"Hindsight local stack (state dir {get_settings().home})")
    for col in ("server", "state", "version", "ports", "pid", "rss", "log"):
        table.add_column(col)
    colour = {"up": "green", "down": "red", "starting": "yellow"}
    for st in stack.status(get_settings()):
        log = os.path.relpath(st.log, get_settings().home)
        state = f"[{colour.get(st.state, 'white')}]{st.state}[/]"
        table.add_row(st.name, state, st.version, st.ports, st.pid, st.rss, log)
    console.print(table)


@stack_app.command("logs")
def stack_logs(
    server: Annotated[str, typer.Argument(help="server name, e.g. kafka")],
    follow: Annotated[bool, typer.Option("--follow", "-f")] = False,
    lines: Annotated[int, typer.Option("--lines", "-n")] = 100,
) -> None:
    """Show the tail of one server's log."""

    try:
        (srv,) = stack.select(get_settings(), [server])[:1]
    except Exception as err:  # noqa: BLE001
        _fail(err)
    if not srv.log_file.exists():
        _fail(FileNotFoundError(f"no log yet at {srv.log_file}"))
    args = ["tail", "-n", str(lines)] + (["-F"] if follow else []) + [str(srv.log_file)]
    os.execvp("tail", args) if follow else subprocess.run(args, check=False)


@stack_app.command("urls")
def stack_urls() -> None:
    """Where to look: the UIs and endpoints of the local stack."""
    s = get_settings()
    console.print(f"Flink web UI      {s.flink_url}")
    console.print(
        f"Neo4j Browser     {s.neo4j_browser_url}  (user {s.neo4j_user}, "
        f"password {s.neo4j_password}, connect URL {s.neo4j_uri})"
    )
    console.print(f"Elasticsearch     {s.elasticsearch_url}")
    console.print(f"Kafka bootstrap   {s.kafka_bootstrap}")
    console.print(f"PostgreSQL        {s.postgres_dsn}")


if __name__ == "__main__":
    app()
