"""`hindsight replay --as-of ... --into NAME`, `replay list`, `replay drop NAME`."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from entrypoints import replay as rp
from entrypoints.cli.progress import along_the_log
from hindsight.settings import get_settings

console = Console()
replay_app = typer.Typer(
    help="Read models as of a moment: the log replayed into a private set of read models.",
    invoke_without_command=True,
)


def _fail(err: Exception) -> None:
    console.print(f"[bold red]error:[/] {err}")
    raise typer.Exit(2)


@replay_app.callback()
def replay(
    ctx: typer.Context,
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="an ISO time (UTC unless it says) or a position")
    ] = None,
    into: Annotated[str | None, typer.Option("--into", help="the replay's name")] = None,
) -> None:
    """Replay the log up to a moment into read models named NAME (`--at NAME` reads them)."""
    if ctx.invoked_subcommand is not None:
        return
    if as_of is None or into is None:
        _fail(ValueError("give --as-of <ISO time | position> and --into NAME"))
    s = get_settings()
    try:
        rp.settings_for(s, into)  # the name's rules before anything else
        moment = rp.parse_moment(as_of, s)
        with along_the_log(console, "starting the bounded job") as show:
            done = rp.run(s, into, moment, progress=show)
    except rp.ReplayError as err:
        _fail(err)
    console.print(f"replay [bold]{done.name}[/] as of {done.as_of}: {done.documents:,} "
                  f"documents, {done.nodes:,} nodes; query it with --at {done.name}")  # fmt: skip


@replay_app.command("list")
def list_replays() -> None:
    """Every replay: name, moment, documents, nodes, created, status."""
    table = Table(title="replays")
    for col in ("name", "as of", "documents", "nodes", "created", "status"):
        table.add_column(col)
    for r in rp.replays(get_settings()):
        table.add_row(r.name, r.as_of, f"{r.documents:,}", f"{r.nodes:,}", r.created, r.status)
    console.print(table)


@replay_app.command("drop")
def drop(name: str) -> None:
    """Delete replay NAME: its indices, graph, topics and record."""
    try:
        rp.drop(get_settings(), name)
    except rp.ReplayError as err:
        _fail(err)
    console.print(f"dropped replay {name}")
