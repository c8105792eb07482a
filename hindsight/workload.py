"""Drive a domain's workload into the platform: through the HTTP service or straight into the
store in batches, until a number of events has been written.

Through HTTP every command takes the path a user's does (validation, flows, idempotency);
the batch path decides the same commands in memory and appends a batch per transaction, for
loading a million events quickly.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx

from hindsight.commands import CommandHandler
from hindsight.domain import Domain
from hindsight.service.app import kebab

Progress = Callable[[int], None]


@dataclass
class WorkloadStats:
    commands: int = 0
    events: int = 0
    seconds: float = 0.0

    @property
    def events_per_s(self) -> float:
        return self.events / self.seconds if self.seconds else 0.0


class WorkloadError(RuntimeError):
    pass


def route(domain: Domain, name: str) -> str:
    cls = domain.commands[name]
    return f"/{domain.data_domain_of(cls.aggregate_type)}/{kebab(name)}"  # type: ignore[attr-defined]


def run_http(
    base_url: str,
    domain: Domain,
    commands: Iterator[tuple[str, dict[str, Any]]],
    events: int,
    *,
    progress: Progress = lambda _n: None,
    run_id: str = "",
    rate: float | None = None,
    max_commands: int | None = None,
) -> WorkloadStats:
    """Until `events` were written (or `max_commands` sent); `rate`: commands per second on
    a fixed schedule (live traffic, for latency), else as fast as the service answers."""
    stats = WorkloadStats()
    t0 = time.perf_counter()
    with httpx.Client(base_url=base_url, timeout=30.0) as client:
        for name, payload in commands:
            if max_commands is not None and stats.commands >= max_commands:
                break
            if rate is not None:
                time.sleep(max(0.0, t0 + stats.commands / rate - time.perf_counter()))
            key = f"workload-{run_id}-{stats.commands}" if run_id else None
            headers = {"Idempotency-Key": key} if key else {}
            r = client.post(route(domain, name), json=payload, headers=headers)
            if r.status_code != 200:
                raise WorkloadError(f"{name} {payload} -> HTTP {r.status_code}: {r.text}")
            written = len(r.json()["events"])
            stats.commands += 1
            stats.events += written
            progress(written)
            if stats.events >= events:
                break
    stats.seconds = time.perf_counter() - t0
    return stats


def run_direct(
    handler: CommandHandler,
    commands: Iterator[tuple[str, dict[str, Any]]],
    events: int,
    *,
    batch_size: int = 500,
    progress: Progress = lambda _n: None,
) -> WorkloadStats:
    stats = WorkloadStats()
    t0 = time.perf_counter()
    batch: list[Any] = []
    for name, payload in commands:
        batch.append(handler.domain.parse_command(name, payload))
        if len(batch) >= batch_size:
            written = handler.execute_batch(batch)
            stats.commands += len(batch)
            stats.events += written
            progress(written)
            batch = []
            if stats.events >= events:
                break
    if batch and stats.events < events:
        written = handler.execute_batch(batch)
        stats.commands += len(batch)
        stats.events += written
        progress(written)
    stats.seconds = time.perf_counter() - t0
    return stats
