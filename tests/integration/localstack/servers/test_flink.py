"""Flink smoke test: `flink run -py` submits a keyed-state PyFlink job to the standalone cluster."""

from __future__ import annotations

import json
import urllib.request
from pathlib import Path

import pytest

from hindsight.settings import Settings
from localstack.flink_cli import run_python_job

pytestmark = pytest.mark.servers("flink-jobmanager", "flink-taskmanager")

JOB = Path(__file__).parent / "jobs" / "keyed_sum_job.py"


def test_cluster_has_two_slots(settings: Settings) -> None:
    with urllib.request.urlopen(f"{settings.flink_url}/overview", timeout=5) as r:
        overview = json.loads(r.read())
    assert overview["taskmanagers"] >= 1
    assert overview["slots-total"] >= 2


def test_keyed_state_job_on_standalone_cluster(settings: Settings) -> None:
    n = 2_000
    result = run_python_job(settings, JOB, [str(n)], timeout_s=300)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-4000:]
    sums = {
        line.split()[1]: int(line.split()[2])
        for line in result.stdout.splitlines()
        if line.startswith("RESULT ")
    }
    expected: dict[str, int] = {}
    for i in range(n):
        expected[f"k{i % 7}"] = expected.get(f"k{i % 7}", 0) + i
    assert sums == expected
    job_id = next(line.split()[-1] for line in result.stdout.splitlines() if "JobID" in line)
    with urllib.request.urlopen(f"{settings.flink_url}/jobs/{job_id}", timeout=5) as r:
        job = json.loads(r.read())
    assert job["state"] == "FINISHED"
    assert any(
        v["name"].startswith("running-sum-per-key") or "running-sum-per-key" in v["name"]
        for v in job["vertices"]
    )
