"""Replay benchmark: how fast read models as of a moment are rebuilt, beside the live job.

Run: `python -m benchmarks.bench_replay [--events N ...]` (`make bench-replay`). For each N, on
ONE preloaded log in a private namespace (the pipeline benchmark's preload: the same workload,
written to a SQLite store and relayed to Kafka before anything reads it):

1. live: the projection job (unbounded, a mini-cluster of its own, parallelism 2) and both sink
   workers (processes) from an empty state until both stores hold exactly the reference
   projection: events/s = N / that time;
2. replay: `hindsight replay --as-of <the last position>` (entrypoints.replay.run: the bounded
   job on a mini-cluster of its own, the sink workers as threads) until it is complete, and a
   parity check against the reference: events/s = N / its time, and the bounded job's part.

Both are measured from their start (JVM and Python start-up included: what a user waits for);
the ratio is replay / live. Figures in `$HINDSIGHT_HOME/bench/replay.json`.
"""

from __future__ import annotations

import argparse
import logging
import shutil
import threading
import time
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from benchmarks.bench_pipeline import cleanup, namespace, preload, wait_complete
from entrypoints import cluster_job as cluster
from entrypoints import figures, generations, parity, rebuild, replay
from entrypoints import namespace as ns
from entrypoints.local_job import LocalJob
from hindsight.settings import Settings, get_settings

console = Console()


class Phases:
    """When each phase a run reports (its progress callback's `what`) began, in seconds
    from the start."""

    def __init__(self) -> None:
        self.t0 = time.monotonic()
        self.started: dict[str, float] = {}

    def progress(self, what: str, _done: int, _total: int) -> None:
        self.started.setdefault(what, self.elapsed())

    def elapsed(self) -> float:
        return time.monotonic() - self.t0


def live_rate(loaded: Any, timeout_s: float) -> dict[str, Any]:
    s = loaded.s
    t0 = time.monotonic()
    job = LocalJob(s, [], s.home / "live-job.log")

    def alive() -> None:
        if job.state() != "RUNNING":
            raise RuntimeError(f"the live job is {job.state()}")

    try:
        with ns.running_sinks(s):
            done = wait_complete(loaded, t0, alive, timeout_s, lambda: True, timeout_s)
    finally:
        job.stop()
    seconds = max(done.values())
    return {"seconds": round(seconds, 1), "events_per_s": round(loaded.events / seconds, 1)}


def replay_rate(loaded: Any, timeout_s: float) -> dict[str, Any]:
    s = loaded.s
    moment = replay.parse_moment(str(loaded.handler.store.last_position()), s)
    phases = Phases()
    built = replay.run(s, "bench", moment, phases.progress, timeout_s=timeout_s)
    seconds = phases.elapsed()
    marks = phases.started
    got = parity.read_model_parity(replay.settings_for(s, "bench"), loaded.projector.outputs())
    job_s = marks.get("the sink workers write the last changes", seconds)
    return {
        "seconds": round(seconds, 1),
        "events_per_s": round(loaded.events / seconds, 1),
        "bounded_job_seconds": round(job_s, 1),
        "bounded_job_events_per_s": round(loaded.events / job_s, 1),
        "documents": built.documents,
        "nodes": built.nodes,
        "parity": got.equal,
        "parity_checked": got.checked,
    }


def rebuild_rate(loaded: Any, timeout_s: float) -> dict[str, Any]:
    """`hindsight rebuild` of the live read models (generation 2) on the same log: a relay
    runs to answer the rebuild's hold, the hand-over submits the new job to the cluster."""
    s = loaded.s
    stop = threading.Event()
    relay = threading.Thread(
        target=lambda: loaded.relay.run(should_stop=stop.is_set, poll_interval_s=0.05),
        daemon=True,
    )
    relay.start()
    phases = Phases()
    try:
        built = rebuild.run(s, progress=phases.progress, timeout_s=timeout_s)
    finally:
        stop.set()
        relay.join(30)
    seconds = phases.elapsed()
    build_s = phases.started.get("checking parity against the reference", seconds)
    return {
        "seconds": round(seconds, 1),
        "events_per_s": round(loaded.events / seconds, 1),
        "build_seconds": round(build_s, 1),
        "build_events_per_s": round(loaded.events / build_s, 1),
        "parity_checked": built.checked,
        "switched": built.status == rebuild.SWITCHED,
    }


def _drop_generations(s: Settings) -> None:
    for g in rebuild.generations_known(s):
        for j in cluster.running_jobs(generations.settings_of(s, g)):
            cluster.cancel(s, j["jid"])
        rebuild.drop(s, g, force=True)


def run_once(
    base: Settings, work: Path, events: int, timeout_s: float, rebuilding: bool
) -> dict[str, Any]:
    s = namespace(base, work)
    result: dict[str, Any] = {"events": events, "namespace": s.kafka_topic_prefix}
    try:
        console.print(f"[bold]N={events:,}[/]: preloading the log")
        loaded = preload(s, events)
        result["events"] = loaded.events
        console.print("  live job + sink workers until both stores equal the reference")
        result["live"] = live_rate(loaded, timeout_s)
        console.print("  replay as of the last position until complete")
        result["replay"] = replay_rate(loaded, timeout_s)
        result["ratio_replay_vs_live"] = round(
            result["replay"]["events_per_s"] / result["live"]["events_per_s"], 3
        )
        if rebuilding:
            console.print("  rebuild of the live read models (generation 2) until switched")
            result["rebuild"] = rebuild_rate(loaded, timeout_s)
            result["ratio_rebuild_vs_live"] = round(
                result["rebuild"]["build_events_per_s"] / result["live"]["events_per_s"], 3
            )
    except Exception as err:  # noqa: BLE001 - report the failed size, keep the others
        result["error"] = f"{type(err).__name__}: {err}"
        console.print(f"  [red]failed:[/] {result['error']} (logs kept in {s.home})")
    finally:
        for r in replay.replays(s):
            replay.drop(s, r.name)
        _drop_generations(s)
        cleanup(s)
        if "error" not in result:
            shutil.rmtree(s.home, ignore_errors=True)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, nargs="+", default=[200_000, 1_000_000])
    parser.add_argument("--timeout-s", type=float, default=3600)
    parser.add_argument(
        "--rebuild-up-to",
        type=int,
        default=1_000_000,
        help="also time `hindsight rebuild` for every N up to this one",
    )
    args = parser.parse_args()
    # polling labels before the first write names them is expected here, not a warning
    logging.getLogger("neo4j.notifications").setLevel(logging.ERROR)
    base = get_settings()
    work = base.home / "bench" / "replay-work"
    results = []
    for n in args.events:
        results.append(run_once(base, work, n, args.timeout_s, n <= args.rebuild_up_to))
        figures.write(base.home, "replay", {"events": args.events}, {"runs": results})
    table = Table(title="replay vs the live job (events/s, start-up included)")
    cols = ("N", "live e2e", "replay", "bounded job", "ratio [>= 0.8]", "parity",
            "rebuild: build / all", "rebuild / live")  # fmt: skip
    for col in cols:
        table.add_column(col)
    for r in results:
        if "error" in r:
            table.add_row(f"{r['events']:,}", r["error"], *[""] * (len(cols) - 2))
            continue
        built = r.get("rebuild")
        rebuilt = ("", "")
        if built:
            rebuilt = (f"{built['build_events_per_s']:,.0f} / {built['events_per_s']:,.0f}",
                       f"{r['ratio_rebuild_vs_live']:.2f}")  # fmt: skip
        table.add_row(f"{r['events']:,}", f"{r['live']['events_per_s']:,.0f}",
                      f"{r['replay']['events_per_s']:,.0f}",
                      f"{r['replay']['bounded_job_events_per_s']:,.0f}",
                      f"{r['ratio_replay_vs_live']:.2f}", str(r["replay"]["parity"]),
                      *rebuilt)  # fmt: skip
    console.print(table)


if __name__ == "__main__":
    main()
