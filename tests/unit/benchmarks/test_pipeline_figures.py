"""The pipeline benchmark's arithmetic: the issue's ratios from the runs of one invocation, a
sink's rate early and late, memory sizes, and the chart (the servers' part is what
`make bench-pipeline` itself runs)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from benchmarks import bench_pipeline as bp
from benchmarks import report
from benchmarks.pipeline_chart import draw, rates
from benchmarks.taskmanager_memory import mib_of


def runs() -> list[dict[str, Any]]:
    return [
        {"exec_mode": "thread", "parallelism": 1,
         "job_alone": {"job_events_per_s": 1500.0, "events": 9},
         "preload": {"reference_events_per_s": 16000.0}},
        {"exec_mode": "thread", "parallelism": 2,
         "job_alone": {"job_events_per_s": 3000.0, "events": 9},
         "taskmanager_memory": {"max_peak_rss_mib": 1800, "process_size_mib": 3072}},
        {"exec_mode": "thread", "parallelism": 2, "checkpoint_interval_ms": 2000,
         "throughput": {"e2e_events_per_s": 1200.0, "job_events_per_s": 2000.0, "events": 9},
         "latency": {"visible": {"p50_ms": 900.0, "p99_ms": 2500.0}, "events_per_s": 600.0},
         "ceilings": {"elasticsearch": {"events_per_s": 40000.0},
                      "neo4j": {"events_per_s": 8000.0}},
         "sink_replay": {"elasticsearch": {"growth": {"ratio_n_vs_20k": 0.9}},
                         "neo4j": {"growth": {"ratio_n_vs_20k": 0.7}}},
         "taskmanager_memory": {"max_peak_rss_mib": 2100, "process_size_mib": 3072}},
        {"exec_mode": "baseline", "baseline": {"e2e_events_per_s": 4000.0, "events": 9}},
    ]  # fmt: skip


def test_the_ratios_divide_figures_of_the_same_invocation() -> None:
    r = bp.ratios(runs())
    assert (r["job_eps"], r["job_1tm_eps"], r["e2e_eps"]) == (3000.0, 1500.0, 1200.0)
    assert r["ratio_job_vs_reference"] == 0.188
    assert r["ratio_e2e_vs_baseline"] == 0.3
    assert r["ratio_e2e_vs_ceiling"] == 0.15  # the slower store: Neo4j's 8,000
    assert r["ratio_2tm_vs_1tm"] == 2.0
    assert r["ratio_sink_n_vs_20k"] == {"elasticsearch": 0.9, "neo4j": 0.7}
    assert r["p99_visible_s"] == 2.5
    assert r["taskmanager_peak_rss_mib"] == 2100  # the peak over every run
    assert r["taskmanager_process_size_mib"] == 3072


def test_a_figure_no_run_measured_is_none_not_zero() -> None:
    r = bp.ratios([{"exec_mode": "thread", "job_alone": {"job_events_per_s": 900.0}}])
    assert r["job_eps"] is None and r["job_1tm_eps"] is None  # parallelism unknown: neither
    assert r["ratio_e2e_vs_ceiling"] is None and r["p99_visible_s"] is None


def test_a_sink_that_slows_as_its_read_models_grow_shows_it() -> None:
    # 100 records per 0.1 s for the first 2,100 records (the window after the first flush),
    # then 100 per 0.2 s
    progress, t = [], 0.0
    for consumed in range(100, 10_001, 100):
        t += 0.1 if consumed <= 2100 else 0.2
        progress.append((t, consumed, consumed // 2))
    g = bp.growth_of(progress, records=10_000, events=100_000)
    assert g["window_records"] == 2000
    assert g["at_20k_outputs_per_s"] == pytest.approx(1000, rel=0.01)
    assert g["at_n_outputs_per_s"] == pytest.approx(500, rel=0.01)
    assert g["ratio_n_vs_20k"] == pytest.approx(0.5, rel=0.02)
    assert g["at_n_written_per_s"] == pytest.approx(250, rel=0.02)  # half of them written


def test_too_little_history_for_a_growth_figure_says_why() -> None:
    g = bp.growth_of([(0.1, 10, 5), (0.2, 20, 9), (0.3, 30, 12)], records=30, events=20_000)
    assert "note" in g and "ratio_n_vs_20k" not in g


def test_half_the_measured_rate_is_the_latency_load() -> None:
    assert bp.half_rate({"throughput": {"e2e_events_per_s": 1261.0}}) == 630.5
    assert bp.half_rate({}) == 100.0


@pytest.mark.parametrize(("size", "mib"), [("3072m", 3072), ("3g", 3072), ("512mb", 512),
                                           ("1048576", 1)])  # fmt: skip
def test_flink_memory_sizes(size: str, mib: float) -> None:
    assert mib_of(size) == mib


def test_the_chart_is_written_with_every_measured_rate(tmp_path: Path) -> None:
    summary = bp.ratios(runs())
    assert [label for label, _ in rates(summary)][:3] == [
        "reference projector (1 core, no I/O)", "job alone, 1 TaskManager",
        "job alone, 2 TaskManagers"]  # fmt: skip
    png = draw(tmp_path / "pipeline.png", summary, [[0.0, 0, 0, 0], [5.0, 900, 800, 700]], "t")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 10_000


def test_the_readme_rows_carry_the_new_figures() -> None:
    results = {"runs": runs(), **bp.ratios(runs())}
    lines = report.table({"pipeline": {"when": "2026-12-02T03:00:00+00:00",
                                       "commit": "abcdef0123", "n": {"events": 200000},
                                       "results": results}})  # fmt: skip
    text = "\n".join(lines)
    assert "0.15x (1200.0 / ES 40,000.0, Neo4j 8,000.0 events/s)" in text
    assert "2.0x (3000.0 / 1500.0 events/s)" in text
    assert "elasticsearch 0.9x, neo4j 0.7x" in text
    assert "2,100 / 3,072 MiB" in text
    assert "parallelism 1" in text
    assert "| visible 0.9 / 2.5 s | 600.0 events/s |" in text
