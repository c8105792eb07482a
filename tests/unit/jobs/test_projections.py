"""The local mini-cluster is told the project's interpreter and JDK, never left to PATH."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from hindsight.settings import Settings
from jobs.projections import local_configuration
from localstack import jars
from localstack.settings import stack_settings


def test_the_mini_cluster_embeds_the_projects_python_and_starts_the_projects_jdk(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    s = Settings(home=tmp_path)
    connectors = jars.lib_dir(tmp_path, "flink-connectors")
    connectors.mkdir(parents=True)
    (connectors / "flink-sql-connector-kafka.jar").write_bytes(b"")
    monkeypatch.setenv("JAVA_HOME", "/somewhere/else")
    monkeypatch.setenv("PATH", "/usr/bin:/bin")

    conf = local_configuration(s)

    assert conf.get_string("python.executable", "") == sys.executable
    assert conf.get_string("python.client.executable", "") == sys.executable
    assert conf.get_string("python.execution-mode", "") == "thread"
    assert os.environ["JAVA_HOME"] == str(stack_settings(s).java17_home)
    # the embedded interpreter finds its home through the first `python` on PATH
    assert os.environ["PATH"].split(os.pathsep)[0] == str(Path(sys.executable).parent)
    shipped = conf.get_string("pipeline.jars", "").split(";")
    assert shipped[0].endswith("flink-sql-connector-kafka.jar")
    assert shipped[1].endswith("hindsight-job-operators.jar")  # built from jobs/java
