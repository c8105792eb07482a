"""`hindsight rebuild` (a new generation of every read model, switched to without downtime),
`rebuild list`, `rebuild drop G`."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from entrypoints import generations
from entrypoints import rebuild as rb
from entrypoints.cli.progress import along_the_log
from hindsight.settings import get_settings

console = Console()
rebuild_app = typer.Typer(
    help="Rebuild every read model beside the live ones from the whole log, then switch.",
    invoke_without_command=True,
)


@rebuild_app.callback()
def rebuild(
    ctx: typer.Context,
    keep_old: Annotated[
        bool, typer.Option("--keep-old/--drop-old", help="keep the old generation until dropped")
    ] = True,
    timeout: Annotated[float, typer.Option(help="give up after this many seconds")] = 3600,
) -> None:
    """Build generation g+1 while the live job runs, check parity, hand over, switch."""
    if ctx.invoked_subcommand is not None:
        return
    s = get_settings()
    try:
        with along_the_log(console, "starting") as show:
            done = rb.run(s, keep_old=keep_old, progress=show, timeout_s=timeout)
    except rb.RebuildError as err:
        console.print(f"[bold red]error:[/] {err}")
        raise typer.Exit(1) from None
    console.print(
        f"generation [bold]{done.generation}[/] is live (was {done.replaces}): "
        f"{done.events:,} events checked, {done.checked:,} elements equal to the reference"
    )
    for element, d in done.digests.items():
        console.print(f"  {element}: {d['count']:,} sha256 {d['sha256']}")
    if keep_old:
        console.print(f"generation {done.replaces} is kept: `hindsight rebuild drop "
                      f"{done.replaces}` deletes it")  # fmt: skip


@rebuild_app.command("list")
def list_generations() -> None:
    """Every generation: live or not, the rebuild's status, parity, when it switched."""
    s = get_settings()
    live = generations.live_generation(s)
    table = Table(title="read-model generations")
    for col in ("generation", "live", "status", "replaces", "events checked", "switched"):
        table.add_column(col)
    records = {r.generation: r for r in rb.rebuilds(s)}
    for g in sorted({*rb.generations_known(s), *records}):
        r = records.get(g)
        table.add_row(str(g), "yes" if g == live else "", r.status if r else "first",
                      str(r.replaces) if r else "", f"{r.events:,}" if r else "",
                      (r.switched or "") if r else "")  # fmt: skip
    console.print(table)


@rebuild_app.command("drop")
def drop(
    generation: int,
    yes: Annotated[bool, typer.Option("--yes", help="do not ask")] = False,
) -> None:
    """Delete generation G's read models, topics and groups (never the live one)."""
    if not yes and not typer.confirm(f"delete generation {generation}'s read models?"):
        raise typer.Exit(1)
    try:
        rb.drop(get_settings(), generation)
    except rb.RebuildError as err:
        console.print(f"[bold red]error:[/] {err}")
        raise typer.Exit(2) from None
    console.print(f"dropped generation {generation}")
