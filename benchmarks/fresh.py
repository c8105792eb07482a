"""What several benchmarks start from: an empty state dir of their own and generated traffic
written into a fresh store (one place, so they all measure from the same start)."""

from __future__ import annotations

import shutil
from pathlib import Path

from entrypoints import bootstrap, workload
from hindsight.settings import Settings


def empty_home(base: Settings, *parts: str) -> Path:
    """`$HINDSIGHT_HOME/bench/<parts...>`, emptied."""
    home = base.home.joinpath("bench", *parts)
    shutil.rmtree(home, ignore_errors=True)
    home.mkdir(parents=True)
    return home


def generated(s: Settings, events: int, seed: int, batch: int = 500) -> workload.WorkloadStats:
    """`events` events of the domain's own workload (seed `seed`) written into `s`'s store in
    batches of `batch` commands, through the command handler; the store is closed after."""
    handler = bootstrap.command_handler(s)
    domain = bootstrap.load_domain(s.domain)
    assert domain.workload is not None, f"domain {domain.name} has no workload generator"
    try:
        return workload.run_direct(handler, domain.workload(seed, events), events, batch_size=batch)
    finally:
        handler.store.close()
