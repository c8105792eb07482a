"""Event store benchmark: Hindsight vs the eventsourcing library, same backend, same durability.

Run: `python -m benchmarks.bench_store [--backends sqlite,postgres]`. PostgreSQL is the server
of the settings (HINDSIGHT_POSTGRES_PORT...); both libraries get their own fresh schema on it.
SQLite: both use a WAL file, measured twice: synchronous=FULL (SQLite's and eventsourcing's
default, Hindsight's too: a commit survives power loss) and synchronous=NORMAL (a commit
survives a killed process; `HINDSIGHT_SQLITE_SYNCHRONOUS=NORMAL`), both libraries at the same
level each time.
Figures go to `$HINDSIGHT_HOME/bench/store.json`. Two like-for-like pairs, side by side: the
aggregate path (Hindsight: decide against in-memory state + `store.append` with the expected
version; eventsourcing: aggregate + `Application.save`) and the storage path (Hindsight's
`store.append` of ready event data; eventsourcing's mapper + `recorder.insert_events`). The
raw recorder (hand-built stored events, no mapper) is kept in the JSON as a floor. Contract
validation is not in the Hindsight aggregate path here (the bench domain has no contract; it
costs ~6 us per event, `make bench-validator`). Append figures are medians of interleaved
rounds (each round runs every contender once, each round starting with another contender);
`spread` is (max - min) / median over the rounds.
Single appends are measured twice: one caller (every append waits for its own fsync, so both
libraries meet the disk's floor) and `--writers` concurrent callers, each with its own stream
(how a command service is called; Hindsight's group commit shares one fsync among them).
One caller is also measured doing a bare one-row INSERT + COMMIT with the same settings
("bare commit"): no library can append faster than that, so bare ÷ eventsourcing
(`append_single_ceiling_ratio`) is the highest single ratio any code could reach there.
"""

from __future__ import annotations

import argparse
import sqlite3
import statistics
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql
from rich.console import Console
from rich.table import Table

from benchmarks import _es
from entrypoints.figures import write
from hindsight.aggregate import Aggregate
from hindsight.events import NewEvent
from hindsight.eventstore import EventStore, Repository
from hindsight.eventstore.postgres import PostgresEventStore
from hindsight.eventstore.sqlite import SQLiteEventStore
from hindsight.settings import Settings, get_settings

SIZES = (10, 1_000, 10_000)
BATCH = 100
KINDS = ("single", "single_concurrent", "batch")
LABELS = {"single": "single", "single_concurrent": "single, concurrent writers", "batch": "batch"}

COUNTER: Aggregate[dict[str, int]] = Aggregate(
    aggregate_type="counter",
    domain="bench",
    initial=lambda: {"total": 0},
    decide=lambda _state, n: [NewEvent("Added", {"amount": 1}) for _ in range(n)],
    evolve=lambda state, _type, data: {"total": state["total"] + data["amount"]},
)


def rate(events: int, fn: Callable[[], Any]) -> float:
    t0 = time.perf_counter()
    fn()
    return events / (time.perf_counter() - t0)


def median_ms(fn: Callable[[], Any], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times)


# -- Hindsight side --------------------------------------------------------------------------
def hs_append_single(store: EventStore, n: int) -> None:
    stream = uuid.uuid4().hex
    for version in range(n):
        store.append("counter", stream, version, [NewEvent("Added", {"amount": 1})])


def concurrently(
    pool: ThreadPoolExecutor, writers: int, per_writer: int, fn: Callable[[int], Any]
) -> None:
    """`writers` pool threads, each calling fn(per_writer) once, started together.

    The pool lives for the whole run, as a server's worker threads do, so per-thread
    connections are opened once (in the warm-up), not in every round."""
    barrier = threading.Barrier(writers)

    def run() -> None:
        barrier.wait()
        fn(per_writer)

    for future in [pool.submit(run) for _ in range(writers)]:
        future.result()  # a benchmark that lost a writer must not report a rate


def hs_decide_append(store: EventStore, batches: int, size: int) -> None:
    """Hindsight's aggregate path, kept in memory the way an eventsourcing aggregate object
    is between saves: decide against the state, append with the expected version, evolve.
    The like-for-like counterpart of eventsourcing's aggregate + Application.save."""
    stream, state, version = uuid.uuid4().hex, COUNTER.initial(), 0
    for _ in range(batches):
        events = list(COUNTER.decide(state, size))
        store.append("counter", stream, version, events)
        state = COUNTER.fold([(e.event_type, e.data) for e in events], state)
        version += len(events)


def hs_append_batches(store: EventStore, batches: int) -> None:
    stream = uuid.uuid4().hex
    for b in range(batches):
        events = [NewEvent("Added", {"amount": 1}) for _ in range(BATCH)]
        store.append("counter", stream, b * BATCH, events)


def hs_build_stream(repo: Repository, n: int) -> str:
    """n events through the command side in batches of 100: snapshots land every 100."""
    stream = uuid.uuid4().hex
    done = 0
    while done < n:
        k = min(BATCH, n - done)
        repo.handle(COUNTER, stream, k)
        done += k
    return stream


# -- one backend -----------------------------------------------------------------------------
def open_backends(
    backend: str, s: Settings, work: Path, synchronous: str
) -> tuple[EventStore, dict[str, str]]:
    if backend == "sqlite":
        for f in work.glob("*.sqlite*"):
            f.unlink()
        store: EventStore = SQLiteEventStore(work / "hindsight.sqlite", synchronous=synchronous)
        return store, _es.env("sqlite", s, work / "eventsourcing.sqlite", "")
    with psycopg.connect(s.postgres_dsn, autocommit=True) as conn:
        for schema in ("bench_hindsight", "bench_eventsourcing", "bench_bare"):
            conn.execute(sql.SQL("drop schema if exists {} cascade").format(sql.Identifier(schema)))
        conn.execute("create schema bench_eventsourcing")
    store = PostgresEventStore(s.postgres_dsn, schema="bench_hindsight")
    return store, _es.env("postgres", s, Path(), "bench_eventsourcing")


def bare_commits(backend: str, s: Settings, work: Path, synchronous: str) -> Callable[[int], None]:
    """n one-row INSERT + COMMIT, one at a time, same durability: the floor of a single append."""
    if backend == "sqlite":
        lite = sqlite3.connect(work / "bare.sqlite", isolation_level=None, check_same_thread=False)
        lite.execute("pragma journal_mode=wal")
        lite.execute(f"pragma synchronous={synchronous}")
        lite.execute("create table bare (id integer primary key, data text not null)")

        def lite_commits(n: int) -> None:
            for _ in range(n):
                lite.execute("begin immediate")
                lite.execute("insert into bare (data) values ('{\"amount\": 1}')")
                lite.execute("commit")

        return lite_commits
    pg = psycopg.connect(s.postgres_dsn, autocommit=True)
    pg.execute("create schema bench_bare")
    pg.execute("create table bench_bare.bare (id bigserial primary key, data jsonb not null)")

    def pg_commits(n: int) -> None:  # one statement in autocommit: one round trip, one commit
        for _ in range(n):
            pg.execute("insert into bench_bare.bare (data) values (%s::jsonb)", ('{"amount": 1}',))

    return pg_commits


def durability(
    backend: str, s: Settings, store: EventStore, es_app: _es.Counters
) -> dict[str, Any]:
    if backend == "sqlite":
        assert isinstance(store, SQLiteEventStore)
        hs = store._conn()
        return {
            "hindsight": {
                "journal_mode": hs.execute("pragma journal_mode").fetchone()[0],
                "synchronous": hs.execute("pragma synchronous").fetchone()[0],
            },
            "eventsourcing": {
                "journal_mode": _es.sqlite_pragma(es_app, "journal_mode"),
                "synchronous": _es.sqlite_pragma(es_app, "synchronous"),
            },
        }
    with psycopg.connect(s.postgres_dsn) as conn:
        names = ("fsync", "synchronous_commit", "wal_sync_method", "server_version")
        return {n: conn.execute(f"show {n}").fetchone()[0] for n in names}  # type: ignore[index]


def run_backend(
    backend: str, s: Settings, args: argparse.Namespace, synchronous: str = "FULL"
) -> dict[str, Any]:
    work = s.home / "bench" / "work"
    work.mkdir(parents=True, exist_ok=True)
    store, es_env = open_backends(backend, s, work, synchronous)
    es_app = _es.Counters(env=es_env)
    es_snap = _es.SnapshottingCounters(env=es_env)
    bare = bare_commits(backend, s, work, synchronous)
    single = args.single_sqlite if backend == "sqlite" else args.single_postgres
    batches = args.batches
    out: dict[str, Any] = {"durability": durability(backend, s, store, es_app)}

    hs_append_single(store, 20)  # warm-up: connections, prepared statements, tables
    _es.append_single(es_app, 20)
    bare(20)
    total = batches * BATCH
    k = args.writers
    per = single // k
    pool = ThreadPoolExecutor(k, thread_name_prefix="writer")
    concurrently(pool, k, 5, lambda n: hs_append_single(store, n))  # warm-up: connections
    concurrently(pool, k, 5, lambda n: _es.append_single(es_app, n))
    work: dict[str, dict[str, Callable[[], Any]]] = {
        "single": {
            "hindsight": lambda: hs_append_single(store, single),
            "eventsourcing": lambda: _es.append_single(es_app, single),
            "hindsight_aggregate": lambda: hs_decide_append(store, single, 1),
            "eventsourcing_mapper_recorder": lambda: _es.mapper_recorder_append(es_app, single, 1),
            "eventsourcing_recorder": lambda: _es.recorder_append(es_app, single, 1),
            "bare_commit": lambda: bare(single),
        },
        "single_concurrent": {
            # k writers, one event per call each: how a command service is actually called
            "hindsight": lambda: concurrently(pool, k, per, lambda n: hs_append_single(store, n)),
            "eventsourcing": lambda: concurrently(
                pool, k, per, lambda n: _es.append_single(es_app, n)
            ),
            "eventsourcing_recorder": lambda: concurrently(
                pool, k, per, lambda n: _es.recorder_append(es_app, n, 1)
            ),
        },
        "batch": {
            "hindsight": lambda: hs_append_batches(store, batches),
            "eventsourcing": lambda: _es.append_batches(es_app, batches, BATCH),
            "hindsight_aggregate": lambda: hs_decide_append(store, batches, BATCH),
            "eventsourcing_mapper_recorder": lambda: _es.mapper_recorder_append(
                es_app, batches, BATCH
            ),
            "eventsourcing_recorder": lambda: _es.recorder_append(es_app, batches, BATCH),
        },
    }
    group = store._group  # type: ignore[attr-defined]
    for kind, events in (("single", single), ("single_concurrent", per * k), ("batch", total)):
        # interleaved rounds, median: the machine's fsync latency drifts, and every library
        # should meet the same drift
        samples: dict[str, list[float]] = {name: [] for name in work[kind]}
        before = (group.groups, group.members)
        names = list(work[kind])
        for r in range(args.rounds):
            # each round starts with another contender: none always runs first (cold caches,
            # a fresh WAL) or last (a checkpoint the others left due)
            for name in names[r % len(names) :] + names[: r % len(names)]:
                samples[name].append(rate(events, work[kind][name]))
        if kind == "single_concurrent":
            made, carried = group.groups - before[0], group.members - before[1]
            out["group_commit"] = {"writers": k, "appends_per_commit": round(carried / made, 2)}
        out[f"append_{kind}_eps"] = {n: statistics.median(v) for n, v in samples.items()}
        out[f"append_{kind}_samples"] = {n: [round(x) for x in v] for n, v in samples.items()}
        out[f"append_{kind}_spread"] = {  # (max - min) / median of the rounds
            n: round((max(v) - min(v)) / statistics.median(v), 2) for n, v in samples.items()
        }
    single_eps = out["append_single_eps"]
    out["append_single_ceiling_ratio"] = round(
        single_eps["bare_commit"] / single_eps["eventsourcing"], 2
    )
    for kind in KINDS:
        eps = out[f"append_{kind}_eps"]
        out[f"append_{kind}_ratio"] = round(eps["hindsight"] / eps["eventsourcing"], 2)
        out[f"append_{kind}_ratio_vs_recorder"] = round(
            eps["hindsight"] / eps["eventsourcing_recorder"], 2
        )
        if "hindsight_aggregate" in eps:
            # like for like: aggregate + append vs aggregate + save; store.append vs the
            # library's mapper + recorder (the headline ratio above mixes the two levels)
            out[f"append_{kind}_ratio_aggregate"] = round(
                eps["hindsight_aggregate"] / eps["eventsourcing"], 2
            )
            out[f"append_{kind}_ratio_storage"] = round(
                eps["hindsight"] / eps["eventsourcing_mapper_recorder"], 2
            )

    repo = Repository(store, snapshot_every=100)
    out["load_ms"] = {}
    for n in SIZES:
        hs_id = hs_build_stream(repo, n)
        es_id = _es.build_stream(es_snap, n)
        assert repo.load(COUNTER, hs_id).state["total"] == n
        assert _es.load_total(es_snap, es_id) == n - 1  # its first event is the creation
        repeat = args.repeat
        out["load_ms"][str(n)] = {
            "hindsight_snapshots": median_ms(lambda i=hs_id: repo.load(COUNTER, i), repeat),
            "hindsight_replay": median_ms(
                lambda i=hs_id: repo.load(COUNTER, i, use_snapshots=False), repeat
            ),
            "eventsourcing_snapshots": median_ms(
                lambda i=es_id: _es.load_total(es_snap, i), repeat
            ),
            "eventsourcing_replay": median_ms(lambda i=es_id: _es.load_total(es_app, i), repeat),
        }
    pool.shutdown()
    store.close()
    es_app.close()
    es_snap.close()
    return out


def table(results: dict[str, Any]) -> Table:
    """Two like-for-like pairs per measure, with each contender's spread over the rounds:
    aggregate path (Hindsight decide + append vs eventsourcing aggregate + save) and storage
    path (Hindsight store.append vs eventsourcing mapper + recorder.insert_events)."""
    t = Table(title="event store: Hindsight vs eventsourcing (same backend, same durability)")
    columns = ("backend", "measure", "pair", "Hindsight", "eventsourcing", "ratio", "spread")
    for col in columns:
        t.add_column(col, justify="left" if col in ("backend", "measure", "pair") else "right")

    def spread(r: dict[str, Any], kind: str, a: str, b: str) -> str:
        s = r[f"append_{kind}_spread"]
        return f"{s[a]:.0%} / {s[b]:.0%}"

    for backend, r in results["backends"].items():
        for kind in KINDS:
            eps = r[f"append_{kind}_eps"]
            measure = f"append {LABELS[kind]} (events/s)"
            pairs = [("storage", "hindsight", "eventsourcing_mapper_recorder", "storage")]
            if "hindsight_aggregate" in eps:
                pairs.insert(0, ("aggregate", "hindsight_aggregate", "eventsourcing", "aggregate"))
            else:  # concurrent writers: only the store's own path is measured
                pairs = [("store vs save", "hindsight", "eventsourcing", "")]
            for label, a, b, suffix in pairs:
                ratio = r[f"append_{kind}_ratio_{suffix}"] if suffix else r[f"append_{kind}_ratio"]
                t.add_row(backend, measure, label, f"{eps[a]:,.0f}", f"{eps[b]:,.0f}",
                          f"{ratio:.2f}x", spread(r, kind, a, b))  # fmt: skip
            if "bare_commit" in eps:
                bare, ceiling = eps["bare_commit"], r["append_single_ceiling_ratio"]
                t.add_row(backend, measure, "floor: bare one-row commit", f"{bare:,.0f}", "",
                          f"{ceiling:.2f}x ceiling", "")  # fmt: skip
        for n, ms in r["load_ms"].items():
            for what in ("snapshots", "replay"):
                t.add_row(backend, f"load {int(n):,} ev, {what} (ms)", "",
                          f"{ms[f'hindsight_{what}']:.2f}", f"{ms[f'eventsourcing_{what}']:.2f}",
                          "", "")  # fmt: skip
    return t


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--backends", default="sqlite,postgres")
    p.add_argument("--single-sqlite", type=int, default=500, help="single appends per round")
    p.add_argument("--single-postgres", type=int, default=400, help="single appends per round")
    p.add_argument(
        "--sqlite-synchronous",
        default="FULL,NORMAL",
        help="SQLite durability levels to measure, both libraries at each",
    )
    p.add_argument("--writers", type=int, default=8, help="threads in the concurrent measure")
    p.add_argument("--batches", type=int, default=20, help="appends of 100 events per round")
    p.add_argument("--rounds", type=int, default=5, help="interleaved rounds (median)")
    p.add_argument("--repeat", type=int, default=7, help="loads per measurement (median)")
    args = p.parse_args()
    s = get_settings()
    results: dict[str, Any] = {
        "sqlite_version": sqlite3.sqlite_version,
        "backends": {},
    }
    for backend in args.backends.split(","):
        if backend != "sqlite":
            results["backends"][backend] = run_backend(backend, s, args)
            continue
        for level in args.sqlite_synchronous.split(","):
            name = "sqlite" if level == "FULL" else f"sqlite-{level.lower()}"
            with _es.sqlite_synchronous(level):
                results["backends"][name] = run_backend(backend, s, args, level)
    Console(width=150).print(table(results))  # wider than a pipe's 80 columns: no wrapped cells
    n = {k: getattr(args, k) for k in ("single_sqlite", "single_postgres", "writers", "rounds")}
    n |= {"batch_events": BATCH * args.batches, "load_repeat": args.repeat}
    write(s.home, "store", n, results)


if __name__ == "__main__":
    main()
