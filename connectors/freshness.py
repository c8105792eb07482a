"""Read-model freshness: how long after its append each change became visible in a store.

The relay stamps every log record with the event's recorded_at (`hindsight.relay.Record`),
Flink carries a record's timestamp through every operator into the sink topics, and a sink
worker knows when a batch became durable in its store. So `durable_at - record timestamp` is
the append -> visible time of every change, measured where it happens, for all traffic, with
no probe writes into anyone's data. (Elasticsearch: visible to GET at once, to search after
the next refresh, at most 1 s later.)

Each worker keeps the latest lags per read-model element (index alias, node label,
relationship type: the names the data contracts give their freshness SLAs) and atomically
replaces one small JSON file per process under `<state dir>/metrics/freshness/<prefix>/`
after each flush. `SinkFreshness` merges every file into the percentile a contract's SLA
names; files of workers long gone simply age out of its window.
"""

from __future__ import annotations

import json
import math
import os
import time
from collections import deque
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

import orjson

if TYPE_CHECKING:
    from hindsight.settings import Settings

DEFAULT_WINDOW_S = 900.0


def freshness_dir(settings: Settings) -> Path:
    """Where sink workers save their lags and `contracts test` reads them: one directory per
    topic prefix, so a test's or a second deployment's traffic on the same state dir never
    counts in another's freshness."""
    return settings.home / "metrics" / "freshness" / settings.kafka_topic_prefix


class FreshnessLog:
    """One worker's recent lags per element, saved to `<directory>/<name>-<pid>.json`."""

    def __init__(self, directory: Path, name: str, keep: int = 5000) -> None:
        self.directory = directory
        self.path = directory / f"{name}-{os.getpid()}.json"
        self.name = name
        self.keep = keep
        self._lags: dict[str, deque[tuple[float, float]]] = {}

    def observe(self, elements: Iterable[str], lag_s: float, at: float) -> None:
        for element in elements:
            held = self._lags.get(element)
            if held is None:
                held = self._lags[element] = deque(maxlen=self.keep)
            held.append((round(at, 3), round(lag_s, 3)))

    def save(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        doc = {
            "sink": self.name,
            "pid": os.getpid(),
            "updated_at": time.time(),
            "elements": {e: list(v) for e, v in self._lags.items()},
        }
        tmp = self.path.with_suffix(".tmp")
        tmp.write_bytes(orjson.dumps(doc))  # after every flush: json.dumps cost 70 ms here
        os.replace(tmp, self.path)


def percentile(values: list[float], p: float) -> float:
    """Nearest rank: the smallest value with at least p % of the values at or below it."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


class SinkFreshness:
    """The freshness probe of `hindsight contracts test`: element -> p-th percentile lag in
    seconds over the last `window_s`, or None when no change reached it in that window."""

    def __init__(
        self, directory: Path, *, window_s: float = DEFAULT_WINDOW_S, percentile: float = 99
    ) -> None:
        self.directory = directory
        self.window_s = window_s
        self.p = percentile

    def samples(self, element: str, now: float | None = None) -> list[float]:
        since = (now if now is not None else time.time()) - self.window_s
        lags: list[float] = []
        for path in sorted(self.directory.glob("*.json")):
            try:
                doc = json.loads(path.read_text())
            except (OSError, ValueError):  # replaced or half-written meanwhile: skip it
                continue
            lags += [lag for at, lag in doc.get("elements", {}).get(element, []) if at >= since]
        return lags

    def __call__(self, element: str) -> float | None:
        lags = self.samples(element)
        return percentile(lags, self.p) if lags else None
