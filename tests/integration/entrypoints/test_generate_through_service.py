"""What a user types: `hindsight service start`, `hindsight generate`, `hindsight service stop`.

The generator's traffic through the real service process (HTTP, one command per request, with
idempotency keys) must write the same events, stream by stream, as the same seed written in
batches through the store: the two paths are one workload. Needs no server (SQLite store).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest

from entrypoints import bootstrap
from hindsight.settings import get_settings

pytestmark = pytest.mark.servers()  # none: the service and the store are ours

EVENTS = 1000


def hindsight(home: Path, port: int, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "HINDSIGHT_HOME": str(home), "HINDSIGHT_SERVICE_PORT": str(port)}
    cmd = [sys.executable, "-m", "entrypoints.cli", *args]
    return subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def streams(home: Path) -> dict[tuple[str, str], list[tuple[str, Any]]]:
    # as the platform reads it: sealed personal data opened (each store has its own keys)
    where = {"home": home, "eventstore_backend": "sqlite"}
    store = bootstrap.store(get_settings().model_copy(update=where))
    out: dict[tuple[str, str], list[tuple[str, Any]]] = defaultdict(list)
    for e in store.read_all(0, 10**6):
        out[(e.aggregate_type, e.aggregate_id)].append((e.event_type, e.data))
    store.close()
    return dict(out)


def test_generate_through_the_service_writes_what_the_batch_path_writes(tmp_path: Path) -> None:
    http_home, store_home, port = tmp_path / "http", tmp_path / "store", free_port()
    started = hindsight(http_home, port, "service", "start")
    assert started.returncode == 0, started.stdout + started.stderr
    try:
        run = hindsight(http_home, port, "generate", "--events", str(EVENTS), "--seed", "5")
        assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:]
    finally:
        stopped = hindsight(http_home, port, "service", "stop")
    assert stopped.returncode == 0, stopped.stdout + stopped.stderr
    with socket.socket() as s:  # stopped means nothing listens any more
        assert s.connect_ex(("127.0.0.1", port)) != 0

    batch = hindsight(store_home, port, "generate", "--events", str(EVENTS), "--seed", "5",
                      "--via", "store")  # fmt: skip
    assert batch.returncode == 0, batch.stdout[-2000:] + batch.stderr[-2000:]

    via_http, via_store = streams(http_home), streams(store_home)
    assert sum(len(v) for v in via_http.values()) >= EVENTS
    for stream, events in via_http.items():  # the batch path may have run a few commands more
        assert via_store[stream][: len(events)] == events, stream


def test_more_traffic_into_a_running_platform_goes_on_and_counts_what_it_wrote(
    tmp_path: Path,
) -> None:
    home, port = tmp_path / "http", free_port()
    started = hindsight(home, port, "service", "start")
    assert started.returncode == 0, started.stdout + started.stderr
    try:
        first = hindsight(home, port, "generate", "--events", "600")
        assert first.returncode == 0, first.stdout[-2000:] + first.stderr[-2000:]
        before = sum(len(v) for v in streams(home).values())
        more = hindsight(home, port, "generate", "--events", "400")  # the same seed again
        assert more.returncode == 0, more.stdout[-2000:] + more.stderr[-2000:]
        assert "going on after" in more.stdout and "idempotency" not in more.stdout
        grown = sum(len(v) for v in streams(home).values())
        assert grown - before >= 400
        assert f"{grown - before} events written" in more.stdout  # the report counts them
        other = hindsight(home, port, "generate", "--events", "300", "--seed", "77")
        assert other.returncode == 0, other.stdout[-2000:] + other.stderr[-2000:]
        assert sum(len(v) for v in streams(home).values()) - grown >= 300
    finally:
        hindsight(home, port, "service", "stop")
