"""Drive a domain's workload into the platform: through the HTTP service or straight into the
store in batches, until a number of events has been written.

Through HTTP every command takes the path a user's does (validation, flows, idempotency);
the batch path decides the same commands in memory and appends a batch per transaction, for
loading a million events quickly.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from itertools import islice
from pathlib import Path
from typing import Any

import httpx

from hindsight.aggregate import DomainError
from hindsight.commands import CommandHandler, StateCache
from hindsight.domain import Domain
from hindsight.eventstore.base import ConcurrencyError
from hindsight.files import write_atomically
from hindsight.naming import command_path

Progress = Callable[[int], None]


@dataclass
class WorkloadStats:
    commands: int = 0
    events: int = 0  # written by this run (a replayed command's were written before)
    seconds: float = 0.0
    replayed: int = 0  # commands the service answered from their idempotency record

    @property
    def events_per_s(self) -> float:
        return self.events / self.seconds if self.seconds else 0.0


class WorkloadError(RuntimeError):
    pass


def route(domain: Domain, name: str) -> str:
    cls = domain.commands[name]
    return command_path(domain.data_domain_of(cls.aggregate_type), name)  # type: ignore[attr-defined]


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
    first_index: int = 0,
) -> WorkloadStats:
    """Until `events` were written (or `max_commands` sent); `rate`: commands per second on
    a fixed schedule (live traffic, for latency), else as fast as the service answers."""
    stats = WorkloadStats()
    t0 = time.perf_counter()
    if max_commands is not None and max_commands <= 0:
        return stats
    with httpx.Client(base_url=base_url, timeout=30.0) as client:
        for name, payload in commands:  # never pulls a command it will not send
            if rate is not None:
                time.sleep(max(0.0, t0 + stats.commands / rate - time.perf_counter()))
            key = f"workload-{run_id}-{first_index + stats.commands}" if run_id else None
            headers = {"Idempotency-Key": key} if key else {}
            r = client.post(route(domain, name), json=payload, headers=headers)
            if r.status_code != 200:
                raise WorkloadError(f"{name} {payload} -> HTTP {r.status_code}: {r.text}")
            answer = r.json()
            written = 0 if answer.get("replayed") else len(answer["events"])
            stats.commands += 1
            stats.replayed += bool(answer.get("replayed"))
            stats.events += written
            progress(written)
            if stats.events >= events or stats.commands == max_commands:
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
    """Batches of up to `batch_size` commands, one transaction each, until `events` were
    written. Near the end a batch holds about half the commands the remaining events need
    (at the events-per-command rate seen so far), so asking for 5 events writes a handful,
    not a whole batch of 500 commands."""
    stats = WorkloadStats()
    t0 = time.perf_counter()
    batch: list[Any] = []
    warm = StateCache()  # the streams the previous batches wrote are not read back

    def limit() -> int:
        # aim at half of what is left: the rate varies along a workload (set-up commands
        # write one event, orders several), and halving the step bounds the overshoot by
        # one small batch for a few more transactions
        rate = stats.events / stats.commands if stats.commands else 2.0
        return max(1, min(batch_size, math.ceil((events - stats.events) / (2 * rate))))

    def flush() -> None:
        try:
            written = handler.execute_batch(batch, warm=warm)
        except (DomainError, ConcurrencyError) as err:
            raise WorkloadError(
                f"the store refused command {stats.commands + 1}..{stats.commands + len(batch)}"
                f" ({type(err).__name__}: {err}). If this store already holds this seed's "
                "traffic (a seed starts from the same ids every time): write it into an empty "
                "store (another HINDSIGHT_HOME), or through the service, where its idempotency "
                "keys make a rerun a no-op"
            ) from err
        stats.commands += len(batch)
        stats.events += written
        progress(written)
        batch.clear()

    if events <= 0:
        return stats
    for name, payload in commands:  # never pulls a command it will not write
        batch.append(handler.domain.parse_command(name, payload))
        if len(batch) >= limit():
            flush()
            if stats.events >= events:
                break
    if batch:
        flush()
    stats.seconds = time.perf_counter() - t0
    return stats


@dataclass
class Continuation:
    """Where a seed's workload stopped in one store, so that more traffic into a running
    platform goes on from there (the same seed's first commands again would all be refused,
    or answered from their idempotency records: nothing new). Kept in the state dir; a store
    holding less than it did then (a new store) starts the workload over."""

    path: Path
    commands: int = 0  # of the seed's stream, already sent
    scale: int | None = None  # the catalogue size the stream started with
    position: int = 0  # the store's end when saved

    @classmethod
    def of(cls, home: Path, store_name: str, seed: int, store_end: int,
           written: Callable[[], bool] = lambda: False) -> Continuation:  # fmt: skip
        """`written`: whether the store holds this seed's traffic already (its first
        command's aggregate exists): then, with no record of how far, it cannot go on."""
        path = home / "workload" / f"{store_name}-s{seed}.json"
        try:
            saved = json.loads(path.read_text())
            if int(saved["position"]) <= store_end and int(saved["commands"]) > 0:
                return cls(
                    path, int(saved["commands"]), int(saved["scale"]), int(saved["position"])
                )
        except (OSError, ValueError, KeyError, TypeError):
            pass
        if store_end > 0 and not path.exists() and written():
            raise WorkloadError(
                f"this store holds {store_end:,} events but no record of where seed {seed}'s "
                "traffic stopped in it (written before such records were kept): generate with "
                "another seed (`--seed 43`, its ids are its own) or into an empty store"
            )
        return cls(path)

    @classmethod
    def in_store(cls, home: Path, store_name: str, domain: Domain, seed: int,
                 store: Any) -> Continuation:  # fmt: skip
        """Where seed `seed` stopped in `store` (named `store_name`: one record per store)."""
        return cls.of(home, store_name, seed, store.last_position(),
                      first_written(domain, seed, store))  # fmt: skip

    def stream(self, domain: Domain, seed: int, scale: int) -> Iterator[tuple[str, dict[str, Any]]]:
        """The seed's commands from where the last run stopped."""
        assert domain.workload is not None
        self.scale = self.scale or scale
        return islice(domain.workload(seed, self.scale), self.commands, None)

    def advance(self, sent: int, store_end: int) -> None:
        self.commands += sent
        self.position = store_end
        record = {"commands": self.commands, "scale": self.scale, "position": store_end}
        write_atomically(self.path, json.dumps(record))


def first_written(domain: Domain, seed: int, store: Any) -> Callable[[], bool]:
    """Whether `store` holds the aggregate the seed's first command creates."""

    def check() -> bool:
        assert domain.workload is not None
        name, payload = next(iter(domain.workload(seed, 1)))
        aggregate_type, aggregate_id = domain.target(domain.parse_command(name, payload))
        return bool(store.stream_version(aggregate_type, aggregate_id))

    return check
