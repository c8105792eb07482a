"""Where a resubmitted job resumes: the newest completed checkpoint of its latest run."""

from __future__ import annotations

from pathlib import Path

import pytest

from entrypoints import cluster_job
from entrypoints.cluster_job import JOB_FILE, _record_submitted, latest_checkpoint, submitted_jobs
from hindsight.settings import Settings
from localstack.servers.flink import FlinkLayout


def checkpoint(s: Settings, job_id: str, n: int, *, complete: bool = True) -> Path:
    d = FlinkLayout(s).checkpoints / job_id / f"chk-{n}"
    d.mkdir(parents=True)
    if complete:
        (d / "_metadata").write_bytes(b"meta")
    return d


def test_no_run_no_checkpoint(tmp_path: Path) -> None:
    assert latest_checkpoint(Settings(home=tmp_path)) is None


def test_the_newest_completed_checkpoint_of_the_latest_run_that_has_one(tmp_path: Path) -> None:
    s = Settings(home=tmp_path, kafka_topic_prefix="acme")
    _record_submitted(s, "a" * 32)
    checkpoint(s, "a" * 32, 9)
    checkpoint(s, "a" * 32, 10)
    assert latest_checkpoint(s) == FlinkLayout(s).checkpoints / ("a" * 32) / "chk-10"
    _record_submitted(s, "b" * 32)
    checkpoint(s, "b" * 32, 2)
    checkpoint(s, "b" * 32, 3, complete=False)  # being written when the JobManager died
    assert latest_checkpoint(s) == FlinkLayout(s).checkpoints / ("b" * 32) / "chk-2"
    _record_submitted(s, "c" * 32)  # died before its first checkpoint completed
    assert latest_checkpoint(s) == FlinkLayout(s).checkpoints / ("b" * 32) / "chk-2"
    assert submitted_jobs(s) == ["a" * 32, "b" * 32, "c" * 32]


def test_runs_are_kept_per_deployment(tmp_path: Path) -> None:
    mine = Settings(home=tmp_path, kafka_topic_prefix="mine")
    other = Settings(home=tmp_path, kafka_topic_prefix="other")
    _record_submitted(other, "d" * 32)
    checkpoint(other, "d" * 32, 1)
    assert latest_checkpoint(mine) is None


def test_the_job_file_submitted_is_the_repository_s_own() -> None:
    assert JOB_FILE.is_file() and JOB_FILE.parts[-2:] == ("jobs", "projections.py")


def test_a_job_waiting_for_slots_other_jobs_hold_is_named_at_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Our REST port to the JobManager answered in memory: the demo's job holds both slots."""
    answers = {
        "/jobs/new": {"state": "CREATED", "vertices": [{"status": "SCHEDULED"}]},
        "/overview": {"slots-available": 0, "slots-total": 2},
        "/jobs/overview": {"jobs": [
            {"jid": "new", "name": "t-projections", "state": "CREATED"},
            {"jid": "demo", "name": "hindsight-projections", "state": "RUNNING"},
        ]},
    }  # fmt: skip
    monkeypatch.setattr(cluster_job, "rest", lambda _s, path, *a, **k: answers[path])
    monkeypatch.setattr(cluster_job.time, "sleep", lambda _s: None)
    with pytest.raises(RuntimeError, match=r"held by hindsight-projections \(demo\)"):
        cluster_job.wait_running(Settings(home=tmp_path), "new", timeout_s=60, slots_grace_s=0)
    answers["/overview"] = {"slots-available": 2, "slots-total": 2}  # free: it is only slow
    with pytest.raises(RuntimeError, match="not running after"):
        cluster_job.wait_running(Settings(home=tmp_path), "new", timeout_s=0.05, slots_grace_s=0)
