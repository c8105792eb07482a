"""The cluster's shape follows the settings: N TaskManagers, parallelism N x slots."""

from __future__ import annotations

from pathlib import Path

import yaml

from localstack import stack
from localstack.servers.flink import FlinkLayout
from localstack.settings import StackSettings


def test_n_taskmanagers_are_n_servers_and_the_default_parallelism_follows(
    tmp_path: Path,
) -> None:
    s = StackSettings(home=tmp_path, flink_taskmanagers=3, flink_taskmanager_slots=1)
    names = [server.name for server in stack.servers(s)]
    assert [n for n in names if "taskmanager" in n] == [
        "flink-taskmanager",
        "flink-taskmanager-2",
        "flink-taskmanager-3",
    ]
    tm = stack.taskmanagers(s)[2]
    argv, _env = tm.command()
    assert "taskmanager.resource-id=flink-taskmanager-3" in argv  # how `registered` finds it
    assert len({t.pid_file for t in stack.taskmanagers(s)}) == 3

    FlinkLayout(s).write()
    config = yaml.safe_load((tmp_path / "flink" / "conf" / "config.yaml").read_text())
    assert config["parallelism"]["default"] == 3
    assert config["taskmanager"]["numberOfTaskSlots"] == 1
