"""The local stack as a whole: install, start in parallel, wait, report, stop."""

from __future__ import annotations

import time
from collections.abc import Callable

from hindsight.settings import Settings
from localstack.python_code import taskmanager_names
from localstack.server import Server, StartError, Status
from localstack.servers.elasticsearch import Elasticsearch
from localstack.servers.flink import FlinkJobManager, FlinkTaskManager
from localstack.servers.kafka import Kafka
from localstack.servers.neo4j import Neo4j
from localstack.servers.postgres import Postgres

Progress = Callable[[str], None]


def servers(settings: Settings) -> list[Server]:

    return [
        Postgres(settings),
        Kafka(settings),
        Elasticsearch(settings),
        Neo4j(settings),
        FlinkJobManager(settings),
        *taskmanagers(settings),
    ]


def taskmanagers(settings: Settings) -> list[FlinkTaskManager]:
    return [FlinkTaskManager(settings, name) for name in taskmanager_names(settings)]


def select(settings: Settings, names: list[str] | None) -> list[Server]:
    all_ = servers(settings)
    if not names:
        return all_
    chosen = [s for s in all_ if s.name in names or s.name.split("-")[0] in names]
    unknown = set(names) - {s.name for s in chosen} - {s.name.split("-")[0] for s in chosen}
    if unknown:
        raise StartError(
            f"unknown server(s): {', '.join(sorted(unknown))}; "
            f"known: {', '.join(s.name for s in all_)}"
        )
    return chosen


def install(settings: Settings, names: list[str] | None = None, progress: Progress = print) -> None:
    for server in select(settings, names):
        t0 = time.monotonic()
        server.install()
        progress(f"{server.name}: installed ({time.monotonic() - t0:.1f} s)")


def up(settings: Settings, names: list[str] | None = None, progress: Progress = print) -> list[str]:
    """Start what is not running; returns the names of the servers this call started."""
    chosen = select(settings, names)
    install(settings, names, progress=lambda _msg: None)
    started: list[Server] = []
    t0 = time.monotonic()
    try:
        for server in chosen:
            if server.running():
                continue
            server.start()
            started.append(server)
        for server in chosen:
            server.wait_ready(server.s.start_timeout_s)
            verb = "started" if server in started else "already up"
            progress(f"{server.name}: {verb} ({time.monotonic() - t0:.1f} s)")
    except BaseException:
        # leave the machine as we found it: stop what this call started, nothing else
        for server in reversed(started):
            server.stop()
        raise
    return [s.name for s in started]


def down(settings: Settings, names: list[str] | None = None, progress: Progress = print) -> None:
    # TaskManager before JobManager, and the reverse of the start order for the rest
    for server in reversed(select(settings, names)):
        if server.stop():
            progress(f"{server.name}: stopped")


def status(settings: Settings) -> list[Status]:
    return [s.status() for s in servers(settings)]


def restart_taskmanager(settings: Settings, timeout_s: float = 60) -> None:
    """Stop the TaskManagers, wait until the JobManager has let their slots go (so no job is
    scheduled onto a dead one), start fresh ones and wait until they offer slots."""
    names = taskmanager_names(settings)
    down(settings, names, progress=lambda _m: None)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if not any(tm.registered() for tm in taskmanagers(settings)):
            break
        time.sleep(0.5)
    up(settings, names, progress=lambda _m: None)
