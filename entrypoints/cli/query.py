"""`hindsight search`, `hindsight graph ...` and `hindsight orders`: the read models, from
the terminal."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from commerce.read import graph as g
from commerce.read import lists
from commerce.read import search as q
from connectors import clients
from entrypoints import bootstrap, generations
from entrypoints.formatting import MONEY, money
from entrypoints.read_positions import (
    DEFAULT_WAIT_S,
    Behind,
    BeyondTheLog,
    ReadModelPositions,
)
from entrypoints.replay import ReplayError, reading_at
from hindsight.settings import Settings, get_settings
from hindsight.topics import SINKS

console = Console()
graph_app = typer.Typer(help="Relationship queries over the Neo4j graph.", no_args_is_help=True)


def es_client(s: Settings) -> Any:
    return clients.elasticsearch_for(s)


def neo4j_driver(s: Settings) -> Any:
    return clients.neo4j_for(s)


At = Annotated[str | None, typer.Option("--at", help="read replay NAME (`hindsight replay`)")]
MinPosition = Annotated[
    int | None,
    typer.Option(
        "--min-position",
        min=0,
        help="first wait until the read model holds every event up to this position "
        "(a command's answer carries it): read your own writes",
    ),
]
WaitS = Annotated[float, typer.Option("--wait-s", min=0.1, help="how long --min-position waits")]


def positions(s: Settings) -> ReadModelPositions:
    return ReadModelPositions(
        s, bootstrap.store(get_settings()), lambda: es_client(s), lambda: neo4j_driver(s)
    )


def _reading(
    at: str | None, stores: list[str], min_position: int | None, wait_s: float
) -> Settings:
    """The live read models or a complete replay's (exit 2 for an unknown one), once
    `stores` hold `min_position` (exit 2 for a position past the log's end, 3 when a store
    stays behind)."""
    try:
        s = reading_at(get_settings(), at, stores)
    except ReplayError as err:
        console.print(f"[bold red]error:[/] {err}")
        raise typer.Exit(2) from None
    try:
        positions(s).wait(stores, min_position, wait_s)
    except BeyondTheLog as err:
        console.print(f"[bold red]error:[/] --min-position: {err}")
        raise typer.Exit(2) from None
    except Behind as err:
        console.print(f"[bold red]not yet:[/] {err}")
        raise typer.Exit(3) from None
    return s


def _cell(column: str, value: Any) -> str:
    return money(value) if column in MONEY else str(value if value is not None else "")


def _table(title: str, rows: list[dict[str, Any]], columns: list[str]) -> Table:
    table = Table(title=title)
    for c in columns:
        table.add_column(c, justify="right" if c in MONEY else "left")
    for r in rows:
        table.add_row(*(_cell(c, r.get(c, "")) for c in columns))
    return table


def _facets(facets: dict[str, Any]) -> None:
    for name, values in facets.items():
        if isinstance(values, dict):
            shown = ", ".join(f"{k} ({v})" for k, v in values.items())
        else:
            shown = _cell(name, values)
        console.print(f"  [bold]{name}[/]: {shown}")


def search(
    text: Annotated[str | None, typer.Argument(help="words to find")] = None,
    orders: Annotated[bool, typer.Option("--orders", help="search orders, not products")] = False,
    semantic: Annotated[
        bool, typer.Option("--semantic", help="products: by meaning (kNN over embeddings)")
    ] = False,
    hybrid: Annotated[
        bool, typer.Option("--hybrid", help="products: words and meaning combined")
    ] = False,
    category: Annotated[str | None, typer.Option(help="products: filter by category")] = None,
    status: Annotated[str | None, typer.Option(help="orders: filter by status")] = None,
    customer: Annotated[str | None, typer.Option(help="orders: filter by customer id")] = None,
    max_price: Annotated[
        float | None, typer.Option(min=0, help="products: max price, in money (12.50)")
    ] = None,
    size: int = 10,
    at: At = None,
    min_position: MinPosition = None,
    wait_s: WaitS = DEFAULT_WAIT_S,
) -> None:
    """Full-text search over products (default) or orders, with filters and facets; products
    also by meaning (--semantic) or both (--hybrid)."""
    if semantic and hybrid:
        raise typer.BadParameter("--semantic or --hybrid, not both")

    s = _reading(at, ["elasticsearch"], min_position, wait_s)
    es = es_client(s)
    if orders:
        res = q.search_orders(
            es, text, status=status, customer_id=customer, size=size, alias_prefix=s.es_alias_prefix
        )
        rows = [
            {
                **h,
                "items": ", ".join(
                    f"{li['quantity']}x {li.get('name') or li['product_id']}" for li in h["lines"]
                ),
            }
            for h in res["hits"]
        ]
        cols = ["order_id", "customer_id", "status", "total", "items"]
    else:
        res = q.search_products(
            es,
            text,
            mode="semantic" if semantic else "hybrid" if hybrid else "bm25",
            category=category,
            max_price=None if max_price is None else round(max_price * 100),
            size=size,
            alias_prefix=s.es_alias_prefix,
        )
        rows, cols = (
            res["hits"],
            ["product_id", "name", "category", "price", "units_sold", "revenue", "stock_on_hand"],
        )
    console.print(
        _table(f"{res['total']} {'orders' if orders else 'products'} for {text!r}", rows, cols)
    )
    _facets(res["facets"])


def orders(
    customer: Annotated[str | None, typer.Option(help="one customer's orders")] = None,
    status: Annotated[str | None, typer.Option(help="orders in this status")] = None,
    after: Annotated[str | None, typer.Option(help="the cursor a previous page printed")] = None,
    size: Annotated[int, typer.Option(min=1, max=lists.MAX_PAGE)] = 10,
    at: At = None,
    min_position: MinPosition = None,
    wait_s: WaitS = DEFAULT_WAIT_S,
) -> dict[str, Any]:
    """Orders newest first from the SQL read model, a page at a time (keyset pagination)."""

    s = _reading(at, ["postgres"], min_position, wait_s)
    try:
        page = lists.orders_page(
            clients.postgres_reader(s.postgres_dsn), customer_id=customer, status=status,
            after=after, size=size, schema=s.postgres_read_schema,
            table_prefix=s.postgres_table_prefix,
        )  # fmt: skip
    except lists.InvalidCursor as err:
        console.print(f"[bold red]error:[/] --after: {err}")
        raise typer.Exit(2) from None
    which = " ".join(x for x in (status, f"of {customer}" if customer else None) if x)
    cols = ["order_id", "status", "total", "line_count", "placed_at"]
    if customer is None:  # one customer's list names them in its title
        cols.insert(1, "customer_id")
    console.print(_table(f"orders {which}".strip() + ", newest first", page["items"], cols))
    if page["next"]:
        console.print(f"next page: --after {page['next']}")
    return page


@graph_app.command("orders")
def graph_orders(
    customer_id: str,
    at: At = None,
    min_position: MinPosition = None,
    wait_s: WaitS = DEFAULT_WAIT_S,
) -> None:
    """A customer's orders and what was in them."""

    s = _reading(at, ["neo4j"], min_position, wait_s)
    with neo4j_driver(s) as d:
        rows = g.customer_orders(d, customer_id, label_prefix=s.neo4j_label_prefix)
    for r in rows:
        r["items"] = ", ".join(f"{li['quantity']}x {li['name']}" for li in r["lines"])
    console.print(
        _table(f"orders of {customer_id}", rows, ["order_id", "status", "total", "items"])
    )


@graph_app.command("together")
def graph_together(
    product_id: str,
    limit: int = 10,
    at: At = None,
    min_position: MinPosition = None,
    wait_s: WaitS = DEFAULT_WAIT_S,
) -> None:
    """Products bought together with a product."""

    s = _reading(at, ["neo4j"], min_position, wait_s)
    with neo4j_driver(s) as d:
        rows = g.bought_together(d, product_id, limit, label_prefix=s.neo4j_label_prefix)
    console.print(_table(f"bought with {product_id}", rows, ["product_id", "name", "orders"]))


@graph_app.command("similar")
def graph_similar(
    customer_id: str,
    limit: int = 10,
    at: At = None,
    min_position: MinPosition = None,
    wait_s: WaitS = DEFAULT_WAIT_S,
) -> None:
    """Customers who bought the same products as a customer."""

    s = _reading(at, ["neo4j"], min_position, wait_s)
    with neo4j_driver(s) as d:
        rows = g.similar_customers(d, customer_id, limit, label_prefix=s.neo4j_label_prefix)
    console.print(
        _table(f"customers like {customer_id}", rows, ["customer_id", "shared", "overlap"])
    )


def status(
    min_position: MinPosition = None,
    wait_s: WaitS = DEFAULT_WAIT_S,
    at: At = None,
) -> None:
    """Each read model's position along the log, and its lag in events and seconds."""
    s = _reading(at, list(SINKS), min_position, wait_s)
    end, stores = positions(s).status()
    which = f"replay {at}" if at else f"generation {generations.live_generation(get_settings())}"
    table = Table(title=f"read models, {which} (the log is at position {end})")
    for col in ("store", "position", "lag (events)", "lag (s)"):
        table.add_column(col)
    for p in stores:
        table.add_row(p.store, str(p.position), str(p.lag_events), f"{p.lag_s:.1f}")
    console.print(table)
