"""`hindsight demo`: the whole platform on generated data, then a short tour of the results."""

from __future__ import annotations

import time
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from commerce.read.read_models import CUSTOMERS, PRODUCTS
from entrypoints import background, bootstrap, catchup, cluster_job, generations, parity, workload
from entrypoints.cli import ops as cli_ops
from entrypoints.cli import query as cli_query
from entrypoints.cli.contracts import test_cmd
from hindsight.settings import Settings, get_settings
from hindsight.topics import SINKS

console = Console()


def demo(
    events: Annotated[int, typer.Option(help="events to generate through the service")] = 10_000,
    timeout: Annotated[float, typer.Option(help="seconds to wait for the read models")] = 900,
) -> None:
    """Generate traffic through the service, relay it, project it, wait, then show around."""

    s = get_settings()
    console.rule("[bold]1. command service")
    cli_ops.service_start()
    console.rule("[bold]2. workload through the service")
    cli_ops.generate_traffic(events=events, seed=42, via="http", batch=500)
    console.rule("[bold]3. relay, projection job, sinks")
    background.relay(s).start(s)
    for name in SINKS:
        background.sink(s, name).start(s)
    live = generations.live(s)  # the generation a rebuild may have switched to
    job_id = cluster_job.submit(live)
    cluster_job.wait_running(live, job_id)
    console.print(f"relay, sinks and job {job_id} running")
    console.rule(
        "[bold]4. waiting for Elasticsearch, Neo4j and PostgreSQL to catch up with the log"
    )
    wait_for_read_models(live, timeout)
    tour(s)
    live_traffic(s, events)
    where_to_look(s)


def wait_for_read_models(s: Settings, timeout: float) -> None:
    """Until Elasticsearch, Neo4j and PostgreSQL hold exactly the reference projection of
    the log.

    The bar counts documents and rows equal to the reference and primary nodes at its version; once
    all are there, the graph is compared element by element (every node's properties and
    every relationship, `entrypoints.parity`), and the wait goes on while anything differs."""
    expected = catchup.expected_outputs(s)
    columns = (
        TextColumn("[bold]read models"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("documents and rows equal to the reference, graph nodes at its version"),
        TimeElapsedColumn(),
    )
    deadline = time.monotonic() + timeout
    differences: list[str] = []
    with Progress(*columns, console=console) as bar:
        task = bar.add_task("catch-up", total=None)
        while True:
            done, wanted = catchup.caught_up(s, expected)
            bar.update(task, completed=done, total=wanted)
            if done >= wanted:
                graph = parity.graph_parity(s, expected)
                if graph.equal:
                    break
                differences = graph.examples
            if time.monotonic() > deadline:
                console.print(
                    "[red]error:[/] read models did not catch up in time; "
                    "see `make status` and `make logs S=flink`"
                )
                for line in differences:
                    console.print(f"  graph {line}")
                raise typer.Exit(1)
            time.sleep(2)
    console.print(f"the graph equals the reference: {graph.checked:,} elements compared")


def live_traffic(
    s: Settings, events: int, commands: int = 150, rate: float = 5, warm_s: float = 10
) -> None:
    """The data contracts promise freshness (append -> visible within an SLA). The log above
    was written before the job started, so its lag is mostly waiting: measure live traffic
    instead, the same workload continued at a steady rate, and test the contracts on it. The
    first `warm_s` seconds are left out of the window: right after the backlog, the sinks'
    first small batches still pay for cold query plans and a JIT that is warming up."""
    console.rule(f"[bold]6. live traffic: {commands} commands at {rate:g}/s, then the contracts")
    console.print(f"(freshness measured after the first {warm_s:g} s: cold plans, warming JIT)")
    domain = bootstrap.load_domain(s.domain)
    assert domain.workload is not None
    measured_from = time.time() + warm_s
    with bootstrap.store(s) as store:  # where step 2 stopped
        where = workload.Continuation.in_store(
            s.home, bootstrap.checkpoint_name(s, s.eventstore_backend), domain, 42, store
        )
    live = workload.run_http(
        s.service_url,
        domain,
        where.stream(domain, 42, events),
        events=10**9,
        run_id="s42",
        rate=rate,
        max_commands=commands,
        first_index=where.commands,
    )
    with bootstrap.store(s) as store:
        where.advance(live.commands, store.last_position())
    console.print(f"{live.events} events from {live.commands} commands in {live.seconds:.1f} s")
    wait_for_read_models(generations.live(s), 300)
    window = time.time() - measured_from
    console.print(f"[bold]$ hindsight contracts test --window {window:.0f}")
    try:
        test_cmd(window=window)
    except typer.Exit as done:
        if done.exit_code:
            console.print(
                "[red]breach:[/] a data contract is not met on live traffic (table above; the "
                "results in .hindsight/contracts/quality.json); the demo fails with it"
            )
            where_to_look(s)
            raise


def tour(s: Settings) -> None:

    es = cli_query.es_client(s)
    console.rule("[bold]5. a short tour")
    products, customers = (
        PRODUCTS.alias_name(s.es_alias_prefix),
        CUSTOMERS.alias_name(s.es_alias_prefix),
    )
    top_product = es.search(
        index=products, size=1, sort=[{"units_sold": "desc"}], query={"match_all": {}}
    )["hits"]["hits"]
    word = top_product[0]["_source"]["name"] if top_product else "set"
    console.print(f"[bold]$ hindsight search '{word}'")
    cli_query.search(word)
    console.print(f"[bold]$ hindsight search '{word}' --orders --status delivered")
    cli_query.search(word, orders=True, status="delivered", size=5)
    meaning = "slice vegetables"  # no product name holds one of these words
    console.print(f"[bold]$ hindsight search --semantic '{meaning}'")
    cli_query.search(meaning, semantic=True, size=5)
    top_customer = es.search(
        index=customers, size=1, sort=[{"lifetime_value": "desc"}], query={"match_all": {}}
    )["hits"]["hits"]
    if top_customer:
        cid = top_customer[0]["_source"]["customer_id"]
        console.print(f"[bold]$ hindsight graph orders {cid}")
        cli_query.graph_orders(cid)
        console.print(f"[bold]$ hindsight graph similar {cid}")
        cli_query.graph_similar(cid, limit=5)
        console.print(f"[bold]$ hindsight orders --customer {cid} --size 3")
        page = cli_query.orders(customer=cid, size=3)
        if page["next"]:  # the next page starts right after the last row shown
            console.print(
                f"[bold]$ hindsight orders --customer {cid} --size 3 --after {page['next']}"
            )
            cli_query.orders(customer=cid, size=3, after=page["next"])
    console.print("[bold]$ hindsight orders --status delivered --size 5")
    cli_query.orders(status="delivered", size=5)
    if top_product:
        pid = top_product[0]["_source"]["product_id"]
        console.print(f"[bold]$ hindsight graph together {pid}")
        cli_query.graph_together(pid, limit=5)


def where_to_look(s: Settings) -> None:
    console.rule("[bold]where to look")
    console.print(f"Console            {s.service_url}/  (the platform at a glance)")
    console.print(f"Flink web UI       {s.flink_url}  (the job: hindsight-projections)")
    console.print(
        f"Neo4j Browser      {s.neo4j_browser_url}  user {s.neo4j_user} / "
        f"{s.neo4j_password}; the Hindsight guide opens on connect"
    )
    console.print(f"Elasticsearch      {s.elasticsearch_url}/_cat/indices?v")
    console.print(
        f"Command service    {s.service_url}/docs  (search: {s.service_url}"
        "/search/products?q=kettle, by meaning: &mode=semantic or hybrid)"
    )
    console.print(
        f"Lists (PostgreSQL) {s.service_url}/orders?status=delivered  (keyset pages: &after=next)"
    )
    console.print("Stop everything:   make down")
