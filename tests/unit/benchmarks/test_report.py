"""The README's table is printed from the figures files, each row naming its run."""

from __future__ import annotations

from typing import Any

from benchmarks import report


def doc(results: dict[str, Any], n: dict[str, Any]) -> dict[str, Any]:
    return {"when": "2026-12-02T03:00:00+00:00", "commit": "abcdef0123", "n": n, "results": results}


def test_a_missing_file_names_the_target_to_run_instead_of_a_figure() -> None:
    lines = report.table({})
    assert len(lines) == 2 + len(report.SOURCES)
    assert "| stack | not measured yet | | | `make bench-stack` |" in lines


def test_rows_carry_n_the_date_and_the_commit_of_their_own_file() -> None:
    load = {"http": {"events": 1001, "events_per_s": 671},
            "store": {"events": 5000, "events_per_s": 13145}}  # fmt: skip
    lines = report.table({"load": doc(load, {"batch": 500})})
    http = next(line for line in lines if line.startswith("| commands through the HTTP"))
    assert http == ("| commands through the HTTP service | 671 events/s | 1,001 events "
                    "| 2026-12-02, abcdef0 | `make bench-load` |")  # fmt: skip


def test_fault_rows_sum_the_cases() -> None:
    good = {"recovered": True, "lost": 0, "doubled": 1, "stale": 0, "recovery_s": 6.3}
    bad = {"recovered": False, "lost": 2, "doubled": 0, "stale": 0, "recovery_s": None}
    cases = [good, bad]
    lines = report.table({"faults": doc({"cases": cases}, {"commands_per_s": 20, "traffic_s": 15})})
    row = next(line for line in lines if line.startswith("| fault cases"))
    assert "| 1 of 2, 2 / 1 / 0; 6.3-6.3 s to recover |" in row


def test_the_job_alone_is_a_row_of_its_own_naming_the_cluster_shape() -> None:
    alone = {"exec_mode": "thread", "taskmanagers": 2, "slots_per_taskmanager": 1,
             "job_alone": {"events": 50000, "job_events_per_s": 3675.3}}  # fmt: skip
    lines = report.table({"pipeline": doc({"runs": [alone]}, {"events": 50000})})
    row = next(line for line in lines if line.startswith("| projection job alone"))
    assert "thread mode, 2 TaskManager(s) x 1 slot(s) | 3,675.3 events/s | 50,000 events |" in row


def test_a_rate_a_short_run_could_not_time_says_so() -> None:
    run = {"exec_mode": "thread", "throughput": {"events": 3000, "job_events_per_s": None,
                                                 "e2e_events_per_s": 448.4}}  # fmt: skip
    lines = report.table({"pipeline": doc({"runs": [run]}, {"events": 3000})})
    row = next(line for line in lines if line.startswith("| projection job, thread"))
    assert "| not timed / 448.4 events/s |" in row


def test_replay_rows_give_the_ratio_and_a_failed_size_its_error() -> None:
    replayed = {"events_per_s": 1820.0, "bounded_job_events_per_s": 3100.0, "parity": True}
    good = {"events": 200000, "ratio_replay_vs_live": 0.91, "live": {"events_per_s": 2000.0},
            "replay": replayed}  # fmt: skip
    bad = {"events": 1000000, "error": "TimeoutError: read models not complete"}
    lines = report.table({"replay": doc({"runs": [good, bad]}, {"events": [200000, 1000000]})})
    rows = [line for line in lines if line.startswith("| replay as of")]
    assert "0.91x (1,820 / 2,000 events/s; the bounded job alone 3,100; parity True)" in rows[0]
    assert "TimeoutError" in rows[1] and "1,000,000 events" in rows[1]
