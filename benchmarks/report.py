"""The README's "Measured" table, printed from the figures files alone.

Every row reads one file under `$HINDSIGHT_HOME/bench/` (written by `entrypoints.figures`) and
says which: its N, the date and the commit of that run. A file not written yet gives a row
that names the target to run instead of a figure. Markdown, to paste into the README as is.

    .venv/bin/python -m benchmarks.report        (make bench-report)
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from entrypoints.figures import read
from hindsight.settings import get_settings
from hindsight.topics import SINKS

Row = tuple[str, str, str]  # what, figure, N
Rows = Callable[[dict[str, Any], dict[str, Any]], Iterator[Row]]  # (results, n) -> rows


def _k(x: float) -> str:
    return f"{x / 1000:.1f}k" if x >= 10_000 else f"{x:,.0f}"


def stack_rows(r: dict[str, Any], n: dict[str, Any]) -> Iterator[Row]:
    servers = f"{n['servers']} servers"
    yield ("`make up` from stopped (jars installed) / again", f"{r['up_cold_s']} s / "
           f"{r['up_again_s']} s", servers)  # fmt: skip
    yield ("memory at rest, all servers", f"{r['rss_total_gib']} GiB", servers)


def load_rows(r: dict[str, Any], n: dict[str, Any]) -> Iterator[Row]:
    h, s = r["http"], r["store"]
    yield ("commands through the HTTP service", f"{h['events_per_s']:,} events/s",
           f"{h['events']:,} events")  # fmt: skip
    yield (f"bulk load through the store (batches of {n['batch']} commands)",
           f"{s['events_per_s']:,} events/s", f"{s['events']:,} events")  # fmt: skip


def validator_rows(r: dict[str, Any], n: dict[str, Any]) -> Iterator[Row]:
    eps = r["events_per_s"]
    yield ("contract validator, one core: bytes as from Kafka / invalid (reason built)",
           f"{_k(eps['bytes'])} / {_k(eps['invalid'])} events/s "
           f"(stdlib json.loads alone {_k(eps['json_loads'])})",
           f"{n['events']:,} events, {n['seconds_per_measure']} s each")  # fmt: skip


_STORE_KINDS = {"single": "one caller, one event per append", "batch": "batches of 100"}


def store_rows(r: dict[str, Any], n: dict[str, Any]) -> Iterator[Row]:
    rounds = f"median of {n['rounds']} rounds"
    for backend, b in r["backends"].items():
        for kind, label in _STORE_KINDS.items():
            eps, spread = b[f"append_{kind}_eps"], b[f"append_{kind}_spread"]
            agg, sto = b[f"append_{kind}_ratio_aggregate"], b[f"append_{kind}_ratio_storage"]
            raw = b[f"append_{kind}_ratio_vs_recorder"]
            yield (f"store, {backend}, {label}: aggregate path / storage path",
                   f"{_k(eps['hindsight_aggregate'])}/s ({agg}x aggregate + save) / "
                   f"{_k(eps['hindsight'])}/s ({sto}x mapper + recorder; {raw}x the raw "
                   f"recorder); spread {spread['hindsight']:.0%}", rounds)  # fmt: skip
        if "bare_commit" in b["append_single_eps"]:
            yield (f"store, {backend}, one caller: bare one-row commit (the floor)",
                   f"{_k(b['append_single_eps']['bare_commit'])}/s: "
                   f"{b['append_single_ceiling_ratio']}x eventsourcing is the ceiling",
                   rounds)  # fmt: skip
        eps = b["append_single_concurrent_eps"]
        yield (f"store, {backend}, {n['writers']} concurrent callers",
               f"{_k(eps['hindsight'])}/s ({b['append_single_concurrent_ratio']}x save)",
               rounds)  # fmt: skip
        load = b["load_ms"]["10000"]
        yield (f"store, {backend}, load a 10,000-event aggregate",
               f"{load['hindsight_snapshots']:.2f} ms with snapshots, "
               f"{load['hindsight_replay']:.0f} ms replay (eventsourcing "
               f"{load['eventsourcing_snapshots']:.2f} / {load['eventsourcing_replay']:.0f})",
               f"median of {n['load_repeat']}")  # fmt: skip


def _n(value: float | None) -> str:
    """A figure, or "not timed" where the run could not time it (too few events)."""
    return "not timed" if value is None else f"{value:,}"


def pipeline_rows(r: dict[str, Any], n: dict[str, Any]) -> Iterator[Row]:
    at = f"{n['events']:,} events"
    if r.get("ratio_job_vs_reference"):
        yield ("projection: job alone / in-process reference projector",
               f"{r['ratio_job_vs_reference']}x ({r.get('job_eps')} / "
               f"{r.get('reference_eps')} events/s)", at)  # fmt: skip
    if r.get("ratio_e2e_vs_baseline"):
        yield ("projection: end to end / hand-written baseline",
               f"{r['ratio_e2e_vs_baseline']}x ({r.get('e2e_eps')} / "
               f"{r.get('baseline_eps')} events/s)", at)  # fmt: skip
    if r.get("ratio_e2e_vs_ceiling"):
        yield ("end to end / the slower store's ceiling (final documents loaded alone: ES "
               "bulk, Neo4j UNWIND)",
               f"{r['ratio_e2e_vs_ceiling']}x ({r.get('e2e_eps')} / ES "
               f"{_n(r.get('es_ceiling_eps'))}, Neo4j {_n(r.get('neo4j_ceiling_eps'))} "
               "events/s)", at)  # fmt: skip
    if r.get("ratio_2tm_vs_1tm"):
        yield ("projection job alone: 2 TaskManagers / 1 TaskManager (parallelism 2 / 1)",
               f"{r['ratio_2tm_vs_1tm']}x ({r.get('job_eps')} / {r.get('job_1tm_eps')} "
               "events/s)", at)  # fmt: skip
    growth = {k: v for k, v in (r.get("ratio_sink_n_vs_20k") or {}).items() if v}
    if growth:
        yield ("each sink alone: its rate at N events of history / at 20k",
               ", ".join(f"{k} {v}x" for k, v in growth.items()), at)  # fmt: skip
    if r.get("taskmanager_peak_rss_mib"):
        yield ("TaskManager peak RSS (children included) / configured process size",
               f"{r['taskmanager_peak_rss_mib']:,} / {r.get('taskmanager_process_size_mib'):,} MiB",
               at)  # fmt: skip
    for run in r["runs"]:
        tp, mode = run.get("throughput"), run["exec_mode"]
        base = run.get("baseline")
        if base:
            yield ("hand-written baseline (one Python process, the same folds and sinks, "
                   "no Flink): end to end into both stores",
                   f"{base['e2e_events_per_s']:,} events/s",
                   f"{base['events']:,} events")  # fmt: skip
        alone = run.get("job_alone")
        if alone and "error" not in alone:
            tms, slots = run.get("taskmanagers", 1), run.get("slots_per_taskmanager", 2)
            shape = f"{tms} TaskManager(s) x {slots} slot(s)"
            if run.get("parallelism"):
                shape += f", parallelism {run['parallelism']}"
            yield (f"projection job alone (no sink running), {mode} mode, {shape}",
                   f"{alone['job_events_per_s']:,} events/s",
                   f"{alone['events']:,} events")  # fmt: skip
        if tp and "error" not in tp:
            yield (f"projection job, {mode} mode: job / end to end into both stores",
                   f"{_n(tp['job_events_per_s'])} / {_n(tp['e2e_events_per_s'])} events/s",
                   f"{tp['events']:,} events")  # fmt: skip
        lat = run.get("latency")
        if lat:
            stores = [
                s for s in ("es_get", "es_search", "neo4j", "visible") if "p99_ms" in lat.get(s, {})
            ]
            cells = ", ".join(
                f"{store} {lat[store]['p50_ms'] / 1000:.1f} / {lat[store]['p99_ms'] / 1000:.1f} s"
                for store in stores
            )
            load = (f"{lat['events_per_s']} events/s" if "events_per_s" in lat
                    else f"{lat['commands_per_s']} commands/s")  # fmt: skip
            yield (f"append -> visible p50 / p99, {mode} mode, checkpoint "
                   f"{run['checkpoint_interval_ms']} ms", cells, load)  # fmt: skip


def sinks_rows(r: dict[str, Any], n: dict[str, Any]) -> Iterator[Row]:
    for sink in (name for name in SINKS if name in r):  # a run before a sink existed lacks it
        f = r[sink]
        yield (f"{sink} sink from empty: rows/s of the first / last 20 % of rows",
               f"{f['first_rows_per_s']:,} / {f['last_rows_per_s']:,} ({f['growth']}x)",
               f"{f['rows']:,} rows, batches of {n['batch']}")  # fmt: skip
    plans = r["neo4j_plans"]
    cells = ", ".join(f"{t} {p['db_hits_per_row']}" for t, p in plans.items())
    yield ("graph statements on the grown graph: db hits per row", cells,
           f"{n['events']:,} events")  # fmt: skip
    for sink, by_size in (r.get("batch_sizes") or {}).items():
        yield (f"{sink} sink, rows/s by batch size (all rows, fresh read models)",
               ", ".join(f"{size}: {rate:,}" for size, rate in by_size.items()),
               f"{r[sink]['rows']:,} rows")  # fmt: skip
    e = r.get("eager_cost")
    if e:
        yield ("guarded node upsert with the planner's Eager / without it (FOREACH)",
               f"{e['eager_ms']} / {e['foreach_ms']} ms per batch ({e['ratio']}x)",
               f"{e['batch']:,} rows on {e['nodes']:,} nodes")  # fmt: skip


def faults_rows(r: dict[str, Any], n: dict[str, Any]) -> Iterator[Row]:
    cases = r["cases"]
    ok = sum(c["recovered"] for c in cases)
    lost, doubled, stale = (sum(c[k] for c in cases) for k in ("lost", "doubled", "stale"))
    times = [c["recovery_s"] for c in cases if c["recovery_s"] is not None]
    span = f"; {min(times)}-{max(times)} s to recover" if times else ""
    yield ("fault cases under live traffic: recovered, lost / doubled / stale",
           f"{ok} of {len(cases)}, {lost} / {doubled} / {stale}{span}",
           f"{n['commands_per_s']} commands/s, {n['traffic_s']} s each")  # fmt: skip


def partitions_rows(r: dict[str, Any], n: dict[str, Any]) -> Iterator[Row]:
    no, yes = r["no_wait"], r["wait"]
    yield ("fresh topics produced to at once: partitions whose first batch was refused",
           f"{no['partitions_refused']:,} of {no['partitions']:,} without the ListOffsets wait, "
           f"{yes['partitions_refused']:,} with it", f"{n['topics']} topics")  # fmt: skip


def replay_rows(r: dict[str, Any], n: dict[str, Any]) -> Iterator[Row]:
    for run in r["runs"]:
        events = f"{run['events']:,} events"
        if "error" in run:
            yield ("replay as of the log's end vs the live job + sinks", run["error"], events)
            continue
        live, rep = run["live"], run["replay"]
        figure = (
            f"{run['ratio_replay_vs_live']}x ({rep['events_per_s']:,.0f} / "
            f"{live['events_per_s']:,.0f} events/s; the bounded job alone "
            f"{rep['bounded_job_events_per_s']:,.0f}; parity {rep['parity']})"
        )
        yield ("replay as of the log's end / live job + sinks (start-up included)", figure, events)
        built = run.get("rebuild")
        if built:
            figure = (
                f"{run['ratio_rebuild_vs_live']}x ({built['build_events_per_s']:,.0f} / "
                f"{live['events_per_s']:,.0f} events/s to a checked cut; "
                f"{built['events_per_s']:,.0f} with parity, hand-over and switch; "
                f"switched {built['switched']})"
            )
            yield ("rebuild beside the live read models: build / live job + sinks", figure, events)


def search_rows(r: dict[str, Any], n: dict[str, Any]) -> Iterator[Row]:
    size = f"{n['queries']} paraphrased queries, {n['products']:,} products"
    for mode, m in r["modes"].items():
        yield (f"search, {mode}: recall@5 / nDCG@5 / query p50, p99",
               f"{m['recall_at_5']:.3f} / {m['ndcg_at_5']:.3f} / {m['p50_ms']} ms, "
               f"{m['p99_ms']} ms", size)  # fmt: skip


SOURCES: dict[str, tuple[str, Rows]] = {  # file name: (the command that writes it, its rows)
    "stack": ("make bench-stack", stack_rows),
    "load": ("make bench-load", load_rows),
    "validator": ("make bench-validator", validator_rows),
    "store": ("make bench-store", store_rows),
    "pipeline": ("make bench-pipeline", pipeline_rows),
    "pipeline-latency": ("make bench-latency", pipeline_rows),
    "pipeline-job": ("make bench-job", pipeline_rows),
    "sinks": ("make bench-sinks", sinks_rows),
    "faults": ("make faults", faults_rows),
    "new-partitions": ("make bench-partitions", partitions_rows),
    "replay": ("make bench-replay", replay_rows),
    "search": ("make bench-search", search_rows),
}


def table(docs: dict[str, dict[str, Any] | None]) -> list[str]:
    lines = ["| what | figure | N | run | how |", "|---|---|---|---|---|"]
    for name, (command, rows) in SOURCES.items():
        doc = docs.get(name)
        if doc is None:
            lines.append(f"| {name} | not measured yet | | | `{command}` |")
            continue
        run = f"{doc['when'][:10]}, {doc['commit'][:7]}"
        for what, figure, n in rows(doc["results"], doc["n"]):
            lines.append(f"| {what} | {figure} | {n} | {run} | `{command}` |")
    return lines


def main() -> None:
    home = get_settings().home
    print("\n".join(table({name: read(home, name) for name in SOURCES})))


if __name__ == "__main__":
    main()
