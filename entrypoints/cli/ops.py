"""Running the platform's own processes: the HTTP service, the outbox relay, the workload."""

from __future__ import annotations

import logging
import signal
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from entrypoints import background, bootstrap, workload
from entrypoints.sinks import run_sink
from hindsight.settings import get_settings
from hindsight.topics import SINKS

if TYPE_CHECKING:
    from entrypoints.workload import WorkloadStats

console = Console()
service_app = typer.Typer(help="The HTTP command service (FastAPI).", no_args_is_help=True)
relay_app = typer.Typer(help="The outbox relay: event store -> Kafka.", no_args_is_help=True)
sink_app = typer.Typer(
    help="The sink workers: projection changes -> Elasticsearch / Neo4j.", no_args_is_help=True
)


@sink_app.command("run")
def sink_run(
    name: Annotated[str, typer.Argument(help="elasticsearch or neo4j")],
    until_idle: Annotated[float | None, typer.Option(help="stop after this many idle s")] = None,
    generation: Annotated[
        int | None,
        typer.Option(
            min=1,
            help="serve this generation of the read models (default: the "
            "live one, followed across a rebuild's switch)",
        ),
    ] = None,
) -> None:
    """Write one sink's changes (read_committed from Kafka), committing after each flush."""

    if name not in SINKS:
        raise typer.BadParameter(f"sink must be one of {', '.join(SINKS)}")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    stats = run_sink(name, get_settings(), until_idle_s=until_idle, generation=generation)  # type: ignore[arg-type]
    console.print(f"sink {name}: {stats}")


@sink_app.command("start")
def sink_start() -> None:
    """Run both sink workers in the background (pid files; `make down` stops them)."""
    s = get_settings()
    for name in SINKS:
        started = background.sink(s, name).start(s)
        console.print(f"sink {name}: {'started' if started else 'already running'}")


@sink_app.command("stop")
def sink_stop() -> None:
    s = get_settings()
    for name in SINKS:
        if background.sink(s, name).stop(s):
            console.print(f"sink {name}: stopped")


@service_app.command("start")
def service_start() -> None:
    """Start the service in the background on 127.0.0.1 (pid file; `make down` stops it)."""
    s = get_settings()
    try:
        started = background.service(s).start(s)
    except RuntimeError as err:
        console.print(f"[red]error:[/] {err}")
        raise typer.Exit(1) from None
    state = "started" if started else "already running"
    console.print(f"service {state}: {s.service_url} (OpenAPI: {s.service_url}/docs)")


@service_app.command("stop")
def service_stop() -> None:
    """Stop the background service, by pid."""
    s = get_settings()
    if background.service(s).stop(s):
        console.print("service: stopped")


@relay_app.command("run")
def relay_run(
    until_caught_up: Annotated[bool, typer.Option(help="stop once the log is published")] = False,
) -> None:
    """Publish stored events to Kafka in store order, resuming from the last confirmed one."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    relay = bootstrap.relay(get_settings())
    stopping = False

    def stop(*_: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    stats = relay.run(until_caught_up=until_caught_up, should_stop=lambda: stopping, retry_s=0.5)
    console.print(f"relay: published {stats.published} events; at position {stats.position}")


@relay_app.command("start")
def relay_start() -> None:
    """Run the relay in the background (pid file; `make down` stops it)."""
    s = get_settings()
    started = background.relay(s).start(s)
    console.print("relay started" if started else "relay already running")


@relay_app.command("stop")
def relay_stop() -> None:
    s = get_settings()
    if background.relay(s).stop(s):
        console.print("relay: stopped")


def generate(
    events: Annotated[int, typer.Option(help="how many events to write (1k to 1M)")] = 10_000,
    seed: Annotated[int, typer.Option(help="same seed, same traffic")] = 42,
    via: Annotated[str, typer.Option(help="'http' (the service) or 'store' (batches)")] = "http",
    batch: Annotated[int, typer.Option(help="commands per transaction with --via store")] = 500,
) -> None:
    """Generate realistic, deterministic traffic for the domain, with a progress bar."""
    generate_traffic(events=events, seed=seed, via=via, batch=batch)


def generate_traffic(*, events: int, seed: int, via: str, batch: int) -> WorkloadStats:
    """`generate`, returning what it wrote (the demo continues the same traffic after it)."""

    s = get_settings()
    domain = bootstrap.load_domain(s.domain)
    if domain.workload is None:
        console.print(f"[red]error:[/] domain {domain.name} has no workload generator")
        raise typer.Exit(1)
    try:
        with bootstrap.store(s) as store:
            where = workload.Continuation.in_store(
                s.home, bootstrap.checkpoint_name(s, s.eventstore_backend), domain, seed, store
            )
    except workload.WorkloadError as err:
        console.print(f"[red]error:[/] {err}")
        raise typer.Exit(1) from None
    if where.commands:
        console.print(f"seed {seed}: going on after its first {where.commands:,} commands "
                      "(already in this store)")  # fmt: skip
    commands = where.stream(domain, seed, events)
    columns = (
        TextColumn("[bold]generate"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("events"),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=console) as bar:
        task = bar.add_task("events", total=events)

        def advance(n: int) -> None:
            bar.update(task, advance=n)

        try:
            if via == "http":
                stats = workload.run_http(s.service_url, domain, commands, events,
                                          progress=advance, run_id=f"s{seed}",
                                          first_index=where.commands)  # fmt: skip
            elif via == "store":
                stats = workload.run_direct(
                    bootstrap.command_handler(s),
                    commands,
                    events,
                    batch_size=batch,
                    progress=advance,
                )
            else:
                raise typer.BadParameter("--via must be 'http' or 'store'")
        except workload.WorkloadError as err:
            console.print(f"[red]error:[/] {err}")
            raise typer.Exit(1) from None
    with bootstrap.store(s) as store:
        where.advance(stats.commands, store.last_position())
    replayed = (f"; {stats.replayed:,} commands were answered from their idempotency records "
                "(written before, nothing new)" if stats.replayed else "")  # fmt: skip
    console.print(
        f"{stats.events} events written from {stats.commands} commands in "
        f"{stats.seconds:.1f} s ({stats.events_per_s:,.0f} events/s) via {via}{replayed}"
    )
    return stats


store_app = typer.Typer(help="The event store itself.", no_args_is_help=True)


@store_app.command("seal")
def store_seal() -> None:
    """Move a store written before sealing began: seal its clear personal data in place,
    apply the erasures already in its log, compact it (run with no writer attached)."""
    store = bootstrap.store(get_settings())
    if not getattr(store, "seal_in_place", None):
        console.print(f"[red]error:[/] {type(store).__name__} cannot seal in place")
        raise typer.Exit(1)
    columns = (TextColumn("[bold]seal"), BarColumn(), MofNCompleteColumn(),
               TextColumn("positions"), TimeRemainingColumn())  # fmt: skip
    with Progress(*columns, console=console) as bar:
        task = bar.add_task("positions", total=store.last_position())
        report = store.seal_in_place(  # type: ignore[attr-defined]
            progress=lambda done, total: bar.update(task, completed=done, total=total)
        )
    store.close()
    console.print(
        f"{report.sealed} events sealed, {report.erased} erasures applied, "
        f"{report.snapshots_dropped} clear snapshots dropped; the store is compacted. The event "
        "topics still hold the old records: republish them (README, 'Erasure')."
    )
