"""`hindsight contracts ...`: lint, diff, test and catalog the data products.

Mounted by entrypoints.cli as a sub-app; also runnable alone (`python -m entrypoints.cli.contracts`)
so CI scripts do not depend on the mount.
"""

from __future__ import annotations

import importlib
import json
import sys
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from connectors.freshness import SinkFreshness, freshness_dir
from connectors.kafka_sampling import sample_kafka, topic_records
from entrypoints import bootstrap as wiring
from hindsight.contracts.catalog import write_catalog
from hindsight.contracts.diff import (
    DiffResult,
    NoBaseline,
    diff_against_git,
    diff_against_released,
    diff_files,
    release,
)
from hindsight.contracts.model import (
    DATA_PRODUCTS,
    POLICIES_FILE,
    Contract,
    contract_paths,
    load_all,
)
from hindsight.contracts.policies import Violation, lint, load_policies
from hindsight.contracts.quality import evaluate_all, per_product, route
from hindsight.contracts.validator import Validator
from hindsight.settings import get_settings
from hindsight.topics import topic_name
from pipelines.read_models import read_models

contracts_app = typer.Typer(
    help="Data products: lint, diff, test and catalog their contracts.", no_args_is_help=True
)
console = Console()

RootOption = Annotated[
    Path, typer.Option("--root", help="directory holding <domain>/datacontract.yaml")
]


def _progress() -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    )


def _home() -> Path:

    return get_settings().home / "contracts"


@contracts_app.command("lint")
def lint_cmd(
    root: Annotated[
        Path | None,
        typer.Option(
            "--root",
            help="directory holding <domain>/datacontract.yaml (default: settings.contracts_dirs)",
        ),
    ] = None,
    policies: Annotated[Path | None, typer.Option(help="global policies file")] = None,
    odcs: Annotated[bool, typer.Option(help="also run `datacontract lint` (ODCS)")] = True,
) -> None:
    """Check every contract against the ODCS standard and Hindsight's global policies."""

    settings = get_settings()
    # the configured contracts against the configured code: a plug-in domain is linted with
    # the ports its read-model module declares, so neither side can drift from the other
    roots = [root] if root is not None else list(settings.contracts_dirs)
    paths = [p for r in roots for p in contract_paths(r)]
    if not paths:
        console.print(f"[red]no contracts under {', '.join(map(str, roots))}[/]")
        raise typer.Exit(2)
    violations: list[Violation] = []
    if odcs:
        from datacontract.data_contract import DataContract

        with _progress() as progress:
            task = progress.add_task("datacontract lint", total=len(paths))
            for path in paths:
                run = DataContract(data_contract_file=str(path)).lint()
                for check in run.checks:
                    if check.result.value not in ("passed", "info", "warning"):
                        violations.append(
                            Violation(
                                path.parent.name,
                                check.field or "-",
                                "odcs",
                                str(check.reason or check.name),
                            )
                        )
                progress.advance(task)
    if policies is None:
        # A directory without its own policies is governed by the repository's.
        local = roots[0] / POLICIES_FILE
        policies = local if local.exists() else DATA_PRODUCTS / POLICIES_FILE
    code = read_models(settings.read_models)
    violations += lint(load_all(*roots), load_policies(policies), code.ports, code.embeddings)
    if not violations:
        console.print(f"[green]{len(paths)} contracts comply with ODCS and the global policies[/]")
        return
    table = Table(title=f"{len(violations)} violations")
    for col in ("contract", "field", "rule", "problem"):
        table.add_column(col)
    for v in violations:
        table.add_row(v.contract, v.field, v.rule, v.message)
    console.print(table)
    raise typer.Exit(1)


def _print_diff(name: str, result: object) -> None:

    assert isinstance(result, DiffResult)
    status = "[green]ok[/]" if result.ok else "[red]BREAKING without a major version bump[/]"
    if result.breaking and result.ok:
        status = "[yellow]breaking, major version bumped[/]"
    console.print(f"[bold]{name}[/]: {result.old_version} -> {result.new_version}: {status}")
    for change in result.breaking:
        console.print(f"  [red]breaking[/] {change}")
    for change in result.warnings:
        console.print(f"  [yellow]warning[/] {change}")
    for line in result.changes:
        console.print(f"  [dim]{line}[/]")


@contracts_app.command("diff")
def diff_cmd(
    old: Annotated[Path | None, typer.Argument(help="contract before")] = None,
    new: Annotated[Path | None, typer.Argument(help="contract after")] = None,
    against_git: Annotated[
        str | None,
        typer.Option("--against-git", help="compare every contract with this git revision"),
    ] = None,
    against_released: Annotated[
        bool,
        typer.Option(help="compare every contract with its last released version (CI's gate)"),
    ] = False,
    root: RootOption = DATA_PRODUCTS,
) -> None:
    """Exit non-zero on a breaking change without a major version bump."""

    if against_released:
        _gate(root)
    if against_git:
        paths = contract_paths(root)
        results = {}
        with _progress() as progress:
            task = progress.add_task(f"diff against {against_git}", total=len(paths))
            for path in paths:
                results |= diff_against_git(against_git, [path])
                progress.advance(task)
        failed = False
        for path, result in results.items():
            if result is None:
                console.print(f"[bold]{path.parent.name}[/]: new since {against_git}: ok")
                continue
            _print_diff(path.parent.name, result)
            failed |= not result.ok
        raise typer.Exit(1 if failed else 0)
    if old is None or new is None:
        console.print("[red]give OLD and NEW, or --against-git REV[/]")
        raise typer.Exit(2)
    result = diff_files(old, new)
    _print_diff(f"{old} -> {new}", result)
    raise typer.Exit(0 if result.ok else 1)


def _gate(root: Path) -> None:

    try:
        entries = diff_against_released(root)
    except NoBaseline as err:
        console.print(f"[red]error:[/] {err}")
        raise typer.Exit(2) from None
    for e in entries:
        if e.result is not None:
            _print_diff(e.product, e.result)
        elif e.verdict == "removed":
            console.print(
                f"[bold]{e.product}[/]: [red]removed[/] (released, no contract now): declare it "
                f"in {root / 'retired.yaml'} if it is retired on purpose"
            )
        else:
            console.print(f"[bold]{e.product}[/]: {e.verdict}: ok")
    raise typer.Exit(0 if all(e.ok for e in entries) else 1)


@contracts_app.command("release")
def release_cmd(
    products: Annotated[list[str] | None, typer.Argument(help="default: every product")] = None,
    root: RootOption = DATA_PRODUCTS,
) -> None:
    """Record the current contracts as released: what the breaking-change gate compares with.
    Commit the copies under data-products/released/ with the change that releases them."""

    try:
        changed = release(root, products)
    except ValueError as err:
        console.print(f"[red]error:[/] {err}")
        raise typer.Exit(2) from None
    console.print(f"released: {', '.join(changed) if changed else 'nothing new'}")


@contracts_app.command("test")
def test_cmd(
    envelopes: Annotated[
        Path | None,
        typer.Option("--envelopes", help="sample from a JSON-lines file of envelopes, not Kafka"),
    ] = None,
    bootstrap: Annotated[
        str | None, typer.Option(help="Kafka bootstrap (default: settings)")
    ] = None,
    limit: Annotated[int, typer.Option(help="latest messages sampled per topic")] = 10_000,
    results: Annotated[Path | None, typer.Option(help="where to write the JSON results")] = None,
    probe: Annotated[
        str | None,
        typer.Option(
            help="freshness probe 'module:function' (read model -> lag s, or None); default: "
            "the append -> visible lags the sink workers record"
        ),
    ] = None,
    window: Annotated[
        float, typer.Option(help="freshness: seconds of recent changes the percentile covers")
    ] = 900.0,
    freshness_from: Annotated[
        Path | None,
        typer.Option("--freshness-dir", help="the sink workers' lag files (default: state dir)"),
    ] = None,
    root: RootOption = DATA_PRODUCTS,
) -> None:
    """Sample events; report validity, quality rules and freshness; exit non-zero on a breach
    (also when the store holds a product's events and nothing of them was seen)."""

    contracts = load_all(root)
    stored = appended = on_topic = None
    if envelopes is not None:
        samples = route(envelopes.read_bytes().splitlines(), contracts)
        samples = {d: [m for m in ms if m.strip()] for d, ms in samples.items()}
    else:  # testing a deployment: what its store holds, and what its topics hold
        stored, appended = _store_counts(contracts, window)
        samples, on_topic = _sample_topics(contracts, bootstrap, limit)
    reports = evaluate_all(
        contracts, samples, Validator(contracts), _freshness(probe, freshness_from, window),
        stored=stored, appended=appended, on_topic=on_topic,
    )  # fmt: skip
    console.print(_report_table(reports))
    out = results or _home() / "quality.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    doc = {"at": datetime.now(UTC).isoformat(), "products": [r.to_dict() for r in reports]}
    out.write_text(json.dumps(doc, indent=2, default=str))
    console.print(f"results: {out}")
    raise typer.Exit(1 if any(r.breaches for r in reports) else 0)


def _store_counts(contracts: Mapping[str, Contract], window_s: float) -> tuple[Any, Any]:
    """Per product: the events the store holds, and those appended in the last window."""
    with wiring.store(get_settings()) as store:
        since = datetime.now(UTC) - timedelta(seconds=window_s)
        stored = per_product(store.event_counts(), contracts)
        appended = per_product(store.event_counts(since=since), contracts)
    return stored, appended


def _sample_topics(
    contracts: Mapping[str, Contract], bootstrap: str | None, limit: int
) -> tuple[dict[str, list[bytes]], dict[str, int]]:
    """The latest messages of each product's topic (this deployment's prefix), with a
    progress bar, and how many records each topic holds."""
    prefix = get_settings().kafka_topic_prefix
    topics = {
        d: topic_name(d, prefix)
        for d, c in contracts.items()
        if c.events() and any(s.port_type == "kafka" for s in c.servers)
    }
    kafka = bootstrap or get_settings().kafka_bootstrap
    with _progress() as progress:
        task = progress.add_task("sampling Kafka", total=None)
        samples = sample_kafka(
            kafka, topics, limit=limit, on_message=lambda: progress.advance(task)
        )
    return samples, topic_records(kafka, topics)


def _freshness(probe: str | None, lags: Path | None, window_s: float) -> Any:
    """A probe named 'module:function', or the lags the sink workers record."""
    if probe:
        module, _, attr = probe.partition(":")
        return getattr(importlib.import_module(module), attr or "probe")
    return SinkFreshness(lags or freshness_dir(get_settings()), window_s=window_s)


def _report_table(reports: list[Any]) -> Table:
    table = Table(title="contract tests")
    for col in ("product", "sampled", "valid %", "complete %", "rules", "freshness", "breaches"):
        table.add_column(col)
    for r in reports:
        passed = sum(q.passed for q in r.rules)
        fresh = _freshness_cell(r.freshness)
        pct = "-" if r.valid_percent is None else f"{r.valid_percent:.2f}"
        complete = "-" if r.complete_percent is None else f"{r.complete_percent:.2f}"
        table.add_row(
            r.domain, str(r.sampled), pct, complete, f"{passed}/{len(r.rules)} passed", fresh,
            "[red]" + "; ".join(r.breaches) + "[/]" if r.breaches else "[green]none[/]",
        )  # fmt: skip
    return table


def _freshness_cell(results: list[Any]) -> str:
    """The worst measured p99 lag against its SLA, and how many elements were measured."""
    measured = [f for f in results if f.lag_seconds is not None]
    if not results:
        return "-"
    if not measured:
        return "not measured"
    worst = max(measured, key=lambda f: f.lag_seconds / f.sla_seconds)
    status = "breach" if any(f.breach for f in measured) else "ok"
    return (
        f"{status}: worst p99 {worst.lag_seconds:.2f} s ({worst.read_model}, SLA "
        f"{worst.sla_seconds:g} s); {len(measured)}/{len(results)} measured"
    )


@contracts_app.command("catalog")
def catalog_cmd(
    output: Annotated[Path | None, typer.Option(help="output directory")] = None,
    results: Annotated[Path | None, typer.Option(help="`contracts test` results JSON")] = None,
    detail: Annotated[
        bool, typer.Option(help="also export each contract (datacontract html)")
    ] = True,
    root: RootOption = DATA_PRODUCTS,
) -> None:
    """Write the HTML catalog: products, owners, ports, schemas and latest quality results."""

    contracts = load_all(root)
    with _progress() as progress:
        task = progress.add_task("catalog", total=len(contracts) if detail else None)
        index = write_catalog(
            contracts,
            output or _home() / "catalog",
            results or _home() / "quality.json",
            detail_pages=detail,
            on_page=lambda _: progress.advance(task),
        )
    console.print(f"catalog: {index}")


if __name__ == "__main__":
    sys.exit(contracts_app())
