"""The TaskManager code guard, with this test process standing in for the TaskManager."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from hindsight.settings import Settings
from localstack import process
from localstack.python_code import (
    StaleTaskManager,
    ensure_current,
    fingerprint,
    mark_clean,
    taskmanager_names,
)
from localstack.servers.flink import FlinkTaskManager
from localstack.settings import StackSettings


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    s = Settings(home=tmp_path)
    process.write_pid(FlinkTaskManager(s).pid_file, os.getpid())  # "the TaskManager" is alive
    mark_clean(s)  # as the launcher does once it has started it
    return s


class Cluster:
    def __init__(self, jobs: list[str] | None = None) -> None:
        self.jobs = jobs or []
        self.restarts = 0

    def running(self) -> list[str]:
        return self.jobs

    def restart(self) -> None:
        self.restarts += 1


def test_a_fresh_taskmanager_takes_any_code_and_the_same_code_again(settings: Settings) -> None:
    cluster = Cluster()
    assert not ensure_current(settings, cluster.running, cluster.restart, code="v1")
    assert not ensure_current(settings, cluster.running, cluster.restart, code="v1")
    assert cluster.restarts == 0


def test_other_code_restarts_an_idle_taskmanager(settings: Settings) -> None:
    cluster = Cluster()
    ensure_current(settings, cluster.running, cluster.restart, code="v1")
    assert ensure_current(settings, cluster.running, cluster.restart, code="v2")
    assert cluster.restarts == 1


def test_other_code_with_a_job_running_is_refused_naming_it(settings: Settings) -> None:
    ensure_current(settings, Cluster().running, Cluster().restart, code="v1")
    busy = Cluster(jobs=["hindsight-projections"])
    with pytest.raises(StaleTaskManager, match="hindsight-projections"):
        ensure_current(settings, busy.running, busy.restart, code="v2")
    assert busy.restarts == 0


def test_a_taskmanager_of_unknown_history_is_restarted_when_idle(tmp_path: Path) -> None:
    s = Settings(home=tmp_path)
    process.write_pid(FlinkTaskManager(s).pid_file, os.getpid())  # started before the guard
    cluster = Cluster()
    assert ensure_current(s, cluster.running, cluster.restart, code="v1")
    assert not ensure_current(s, cluster.running, cluster.restart, code="v1")
    assert cluster.restarts == 1


def test_a_taskmanager_we_did_not_start_is_left_alone(tmp_path: Path) -> None:
    cluster = Cluster()
    assert not ensure_current(Settings(home=tmp_path), cluster.running, cluster.restart)
    assert cluster.restarts == 0


def test_the_fingerprint_follows_every_python_file_and_contract(tmp_path: Path) -> None:
    (tmp_path / "pipelines").mkdir()
    (tmp_path / "data-products" / "orders").mkdir(parents=True)
    job = tmp_path / "pipelines" / "dataflow.py"
    contract = tmp_path / "data-products" / "orders" / "datacontract.yaml"
    job.write_text("A = 1\n")
    contract.write_text("version: 1.0.0\n")
    first = fingerprint(tmp_path)
    job.write_text("A = 2\n")
    second = fingerprint(tmp_path)
    contract.write_text("version: 1.1.0\n")
    assert len({first, second, fingerprint(tmp_path)}) == 3


def test_every_taskmanager_is_guarded_when_there_are_several(tmp_path: Path) -> None:
    s = StackSettings(home=tmp_path, flink_taskmanagers=2)
    assert taskmanager_names(s) == ["flink-taskmanager", "flink-taskmanager-2"]
    for name in taskmanager_names(s):
        tm = FlinkTaskManager(s, name)
        process.write_pid(tm.pid_file, os.getpid())
    mark_clean(s, "flink-taskmanager")  # the second one's history is unknown
    cluster = Cluster()
    assert ensure_current(s, cluster.running, cluster.restart, code="v1")
    assert not ensure_current(s, cluster.running, cluster.restart, code="v1")
    assert cluster.restarts == 1
