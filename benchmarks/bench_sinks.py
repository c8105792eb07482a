"""Do the sinks stay fast as the read models grow? Rows/s per batch from empty to N, and the plan
of every graph statement on the grown graph.

The domain's generated traffic (`--events`, into a fresh store of its own) is projected by the
reference projector; its final outputs are written through the real sinks (Elasticsearch,
Neo4j, PostgreSQL), on private indices, labels and tables, in batches of `--batch`, as a
replay writes them. Each batch is timed, so the first batches (a small read model) compare
with the last (a grown one): `growth` is the rate of the last 20 % of rows over the rate of
the first 20 % (the rows are shuffled once, seeded, so every batch holds the same mix of read
models). Then every graph
statement is PROFILEd once more on a batch of newer versions of existing rows (what live
traffic does to a grown graph): its db hits, rows, and any label scan or eager operator (the
operators that make a statement slow down as the graph grows). Then the batch size: the
same rows written again into fresh indices / labels at each size of `--batches` (what
`entrypoints.sinks.DEFAULT_BATCH` is chosen from). And what an `Eager` operator costs: the
planner puts one between a batch's reads and its writes of the same property (the version
guard), so the same guarded upsert is timed in its plain form (with the Eager) and as a
`FOREACH` (without), alternately, on batches of existing nodes. The private read models are
deleted at the end. Figures go to `$HINDSIGHT_HOME/bench/sinks.json`.

    .venv/bin/python -m benchmarks.bench_sinks [--events 50000] [--batch 2000]
        [--batches 500,1000,2000,5000]
"""

from __future__ import annotations

import argparse
import dataclasses
import random
import statistics
import time
from collections.abc import Sequence
from typing import Any

from rich.console import Console
from rich.table import Table

from benchmarks import fresh
from connectors import clients
from entrypoints import catchup, namespace
from entrypoints.figures import write
from entrypoints.sinks import build_sink
from hindsight.settings import Settings, get_settings
from hindsight.topics import SINKS
from pipelines.model import Output
from pipelines.read_models import GraphPattern, read_models

SLOW_OPERATORS = ("NodeByLabelScan", "AllNodesScan", "Eager", "CartesianProduct")

# the version-guarded upsert of a node, with the planner's Eager (read/set conflict on
# `version` between rows of the batch) and without it (FOREACH decides per row, no Filter)
GUARDED_EAGER = """UNWIND $rows AS row
MERGE (n:`{label}` {{id: row.id}})
WITH n, row WHERE n.version IS NULL OR n.version < row.version
SET n.name = row.name, n.version = row.version
RETURN count(*) AS applied"""
GUARDED_FOREACH = """UNWIND $rows AS row
MERGE (n:`{label}` {{id: row.id}})
FOREACH (_ IN CASE WHEN n.version IS NULL OR n.version < row.version THEN [1] ELSE [] END |
  SET n.name = row.name, n.version = row.version)
RETURN count(*) AS applied"""


def outputs_of(base: Settings, events: int) -> tuple[Settings, list[Output]]:
    """A private namespace, and the final outputs of `events` generated events."""
    home = fresh.empty_home(base, "sinks-work")
    s = namespace.private(base, home, "sinks").model_copy(update={"eventstore_backend": "sqlite"})
    fresh.generated(s, events, seed=42)
    return s, list(catchup.expected_outputs(s).values())


def timed_batches(sink: Any, outputs: Sequence[Output], batch: int) -> list[tuple[int, float]]:
    """(rows, seconds) of each batch written."""
    out = []
    for i in range(0, len(outputs), batch):
        chunk = outputs[i : i + batch]
        t0 = time.perf_counter()
        sink.write(chunk)
        out.append((len(chunk), time.perf_counter() - t0))
    return out


def growth(samples: list[tuple[int, float]]) -> dict[str, float]:
    """Rows/s of the first and the last 20 % of the rows, and their ratio."""
    total = sum(n for n, _ in samples)
    edge = max(1, total // 5)

    def rate(chosen: list[tuple[int, float]]) -> float:
        return sum(n for n, _ in chosen) / sum(t for _, t in chosen)

    first, last, seen = [], [], 0
    for n, t in samples:
        if seen < edge:
            first.append((n, t))
        if seen >= total - edge:
            last.append((n, t))
        seen += n
    early, late = rate(first), rate(last or samples[-1:])
    return {"first_rows_per_s": round(early), "last_rows_per_s": round(late),
            "growth": round(late / early, 2),
            "median_batch_s": round(statistics.median(t for _, t in samples), 3)}  # fmt: skip


def profile(
    s: Settings, patterns: dict[str, GraphPattern], outputs: list[Output]
) -> dict[str, Any]:
    """PROFILE each pattern's statement on newer versions of rows the graph already holds."""
    found: dict[str, Any] = {}
    with clients.neo4j_for(s) as driver:
        for target, pattern in patterns.items():
            rows = [
                pattern.to_row(dataclasses.replace(o, version=o.version + 1))
                for o in outputs
                if o.sink == "neo4j" and o.target == target
            ][:500]
            if not rows:
                continue
            _, summary, _ = driver.execute_query(
                "PROFILE " + pattern.statement(s.neo4j_label_prefix), rows=rows
            )
            plan = summary.profile or {}
            operators: list[tuple[str, int]] = []  # (operator, its own db hits)

            def walk(node: dict[str, Any], ops: list[tuple[str, int]] = operators) -> None:
                name = str(node.get("operatorType", "?")).split("@")[0]
                details = str(node.get("args", {}).get("Details", ""))[:80]
                ops.append((f"{name} {details}".strip(), int(node.get("dbHits", 0))))
                for child in node.get("children", []):
                    walk(child)

            if plan:
                walk(plan)
            hits = sum(h for _, h in operators)
            top = max(operators, key=lambda op: op[1], default=("-", 0))
            found[target] = {
                "rows": len(rows),
                "db_hits": hits,
                "db_hits_per_row": round(hits / len(rows), 1),
                "top_operator": f"{top[0]}: {top[1]:,} hits",
                "slow_operators": sorted(
                    {op.split()[0] for op, _ in operators if op.split()[0] in SLOW_OPERATORS}
                ),
            }
    return found


def batch_sizes(s: Settings, outputs: list[Output], sizes: list[int]) -> dict[str, Any]:
    """Rows/s of each sink writing all its rows at each batch size, into fresh read models."""
    found: dict[str, Any] = {name: {} for name in SINKS}
    for size in sizes:
        prefixes = {"es_alias_prefix": f"{s.es_alias_prefix}b{size}-",
                    "neo4j_label_prefix": f"{s.neo4j_label_prefix}B{size}",
                    "postgres_table_prefix": f"{s.postgres_table_prefix}b{size}_"}  # fmt: skip
        bs = s.model_copy(update=prefixes)
        for name, sink in sinks_of(bs):
            mine = [o for o in outputs if o.sink == name]
            random.Random(7).shuffle(mine)
            sink.start()
            try:
                samples = timed_batches(sink, mine, size)
            finally:
                sink.close()
            found[name][str(size)] = round(len(mine) / sum(t for _, t in samples))
    return found


def eager_cost(
    s: Settings, nodes: int = 20_000, batch: int = 2000, rounds: int = 6
) -> dict[str, Any]:
    """ms per batch of the guarded upsert with and without its Eager, alternating, on
    `nodes` existing nodes of a private label."""
    label = f"{s.neo4j_label_prefix}EagerProbe"
    plain, foreach = GUARDED_EAGER.format(label=label), GUARDED_FOREACH.format(label=label)
    rng = random.Random(11)
    took: dict[str, list[float]] = {"eager": [], "foreach": []}
    with clients.neo4j_for(s) as driver:
        driver.execute_query(f"CREATE CONSTRAINT {label.lower()}_id IF NOT EXISTS "
                             f"FOR (n:`{label}`) REQUIRE n.id IS UNIQUE")  # fmt: skip
        seed = [{"id": f"n{i}", "name": "a", "version": 1} for i in range(nodes)]
        for i in range(0, nodes, 5000):
            driver.execute_query(plain, rows=seed[i : i + 5000])
        for r in range(rounds):
            for form, statement in (("eager", plain), ("foreach", foreach)):
                version = 2 + 2 * r + (form == "foreach")
                rows = [{"id": f"n{rng.randrange(nodes)}", "name": "b", "version": version}
                        for _ in range(batch)]  # fmt: skip
                t0 = time.perf_counter()
                driver.execute_query(statement, rows=rows)
                took[form].append((time.perf_counter() - t0) * 1000)
    eager, without = (statistics.median(took[f]) for f in ("eager", "foreach"))
    return {"batch": batch, "nodes": nodes, "eager_ms": round(eager, 1),
            "foreach_ms": round(without, 1), "ratio": round(eager / without, 2)}  # fmt: skip


def sinks_of(s: Settings) -> list[tuple[str, Any]]:
    return [(name, build_sink(name, s)) for name in SINKS]  # type: ignore[arg-type]


def main() -> None:
    p = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    p.add_argument("--events", type=int, default=50_000)
    p.add_argument("--batch", type=int, default=2000)
    p.add_argument("--batches", default="500,1000,2000,5000", help="sizes to compare ('' none)")
    args = p.parse_args()
    console = Console()
    base = get_settings()
    with console.status(f"projecting {args.events:,} generated events"):
        s, outputs = outputs_of(base, args.events)
    models = read_models(s.read_models)
    sinks = sinks_of(s)
    figures: dict[str, Any] = {}
    try:
        for name, sink in sinks:
            sink.start()
            mine = [o for o in outputs if o.sink == name]
            # one mix of targets in every batch: in the reference's order the first batches
            # would be one kind of document and the last another, and "growth" would compare them
            random.Random(7).shuffle(mine)
            with console.status(f"{len(mine):,} rows into {name}"):
                figures[name] = {"rows": len(mine), **growth(timed_batches(sink, mine, args.batch))}
        with console.status("profiling the graph statements"):
            figures["neo4j_plans"] = profile(s, dict(models.graph_patterns), outputs)
        sizes = [int(x) for x in args.batches.split(",") if x]
        with console.status(f"every row again in batches of {sizes}"):
            figures["batch_sizes"] = batch_sizes(s, outputs, sizes)
        with console.status("the guarded upsert with and without its Eager"):
            figures["eager_cost"] = eager_cost(s)
    finally:
        for _, sink in sinks:
            sink.close()
        namespace.wipe(s)
    table = Table(
        title=f"sinks as the read models grow ({args.events:,} events, batches of {args.batch})"
    )
    for col in ("sink", "rows", "first 20 % rows/s", "last 20 % rows/s", "last / first"):
        table.add_column(col, justify="left" if col == "sink" else "right")
    for name in SINKS:
        f = figures[name]
        table.add_row(name, f"{f['rows']:,}", f"{f['first_rows_per_s']:,}",
                      f"{f['last_rows_per_s']:,}", f"{f['growth']:.2f}")  # fmt: skip
    console.print(table)
    plans = Table(title="graph statements, PROFILEd on the grown graph (newer versions)")
    for col in ("pattern", "rows", "db hits / row", "label scans or eager", "costliest operator"):
        plans.add_column(col)
    for target, f in figures["neo4j_plans"].items():
        plans.add_row(target, str(f["rows"]), f"{f['db_hits_per_row']:,}",
                      ", ".join(f["slow_operators"]) or "none", f["top_operator"])  # fmt: skip
    console.print(plans)
    sized = Table(title="rows/s by batch size (all rows, fresh read models)")
    sized.add_column("sink")
    for size in figures["batch_sizes"]["elasticsearch"]:
        sized.add_column(size, justify="right")
    for name, by_size in figures["batch_sizes"].items():
        sized.add_row(name, *(f"{v:,}" for v in by_size.values()))
    console.print(sized)
    e = figures["eager_cost"]
    console.print(f"guarded upsert of {e['batch']:,} rows on {e['nodes']:,} nodes: with Eager "
                  f"{e['eager_ms']} ms, without (FOREACH) {e['foreach_ms']} ms, "
                  f"ratio {e['ratio']}")  # fmt: skip
    write(base.home, "sinks", {"events": args.events, "batch": args.batch}, figures)


if __name__ == "__main__":
    main()
