"""How many events per second one core validates against the data contracts.

The projection job validates every Kafka message before projecting it, so the validator must
never be the bottleneck: the target is >= 100,000 events/s on one core for typical events.
"Typical" = the mix the workload generator really produces, stored by the real (SQLite) store
and serialised as the relay publishes it. Measures raw bytes (as from Kafka: parse + checks),
already-parsed dicts (checks only), stdlib json.loads alone for reference, and rejections
(where the precise reason is built).

    .venv/bin/python -m benchmarks.bench_validator [--events 3000] [--seconds 3]
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from commerce.domain import COMMERCE
from entrypoints import bootstrap
from entrypoints.figures import write
from entrypoints.workload import run_direct
from hindsight.contracts.model import default_contracts
from hindsight.contracts.validator import Validator
from hindsight.settings import Settings, get_settings

TARGET = 100_000


def _pin_one_core() -> None:
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})


def _workload_events(commands: int) -> list[bytes]:

    with tempfile.TemporaryDirectory() as home:
        handler = bootstrap.command_handler(Settings(home=Path(home)))
        run_direct(handler, COMMERCE.workload(42, commands), commands, batch_size=1)
        return [e.to_json() for e in handler.store.read_all(0, 10**7)]


def _rate(fn: Callable[[Any], Any], items: list[Any], seconds: float) -> float:
    n = 0
    start = time.perf_counter()
    deadline = start + seconds
    while True:
        for item in items:
            fn(item)
        n += len(items)
        now = time.perf_counter()
        if now >= deadline:
            return n / (now - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--events", type=int, default=3000, help="workload commands to run")
    parser.add_argument("--seconds", type=float, default=3.0, help="per measurement")
    args = parser.parse_args()
    console = Console()
    with console.status("generating the workload through the store"):
        raw = _workload_events(args.events)
    _pin_one_core()
    sec = args.seconds
    validator = Validator(default_contracts())
    parsed = [json.loads(m) for m in raw]
    assert all(isinstance(validator(m), dict) for m in raw), "the workload must be valid"
    bad = [m.replace(b'"data":{', b'"data":{"unexpected":1,', 1) for m in raw[:500]]
    assert not any(isinstance(validator(m), dict) for m in bad)

    measures = {  # key in the figures file: (label, what is timed)
        "bytes": ("bytes (parse + checks), as from Kafka", lambda: _rate(validator, raw, sec)),
        "dict": ("dict (checks only)", lambda: _rate(validator, parsed, sec)),
        "json_loads": ("stdlib json.loads alone (reference)", lambda: _rate(json.loads, raw, sec)),
        "invalid": ("invalid bytes (reason built)", lambda: _rate(validator, bad, sec)),
    }
    eps = {key: fn() for key, (_label, fn) in measures.items()}
    rows = [(label, eps[key]) for key, (label, _fn) in measures.items()]
    avg = sum(map(len, raw)) // len(raw)
    table = Table(title=f"contract validator, one core, {len(raw):,} workload events (avg {avg} B)")
    table.add_column("input")
    table.add_column("events/s", justify="right")
    table.add_column(f">= {TARGET:,}", justify="center")
    for name, rate in rows:
        table.add_row(name, f"{rate:,.0f}", "yes" if rate >= TARGET else "no")
    console.print(table)
    n = {"events": len(raw), "seconds_per_measure": sec, "avg_event_bytes": avg, "cores": 1}
    write(get_settings().home, "validator", n, {"events_per_s": eps, "target": TARGET})


if __name__ == "__main__":
    main()
