"""The freshness files the sink workers write and the probe `contracts test` reads."""

from __future__ import annotations

import time
from pathlib import Path

from commerce.read.read_models import GRAPH_PATTERNS
from connectors.freshness import FreshnessLog, SinkFreshness, percentile


def test_percentile_is_nearest_rank() -> None:
    values = [float(v) for v in range(1, 101)]
    assert percentile(values, 99) == 99.0
    assert percentile(values, 50) == 50.0
    assert percentile([3.0], 99) == 3.0


def test_the_probe_merges_every_workers_file_within_the_window(tmp_path: Path) -> None:
    now = time.time()
    a, b = FreshnessLog(tmp_path, "elasticsearch"), FreshnessLog(tmp_path, "neo4j")
    b.path = tmp_path / "neo4j-other-process.json"  # two processes, two files
    a.observe(["orders"], 0.5, now)
    a.observe(["orders"], 9.0, now - 3600)  # an hour ago: outside a 15 min window
    b.observe(["Order", "PLACED"], 2.0, now)
    b.observe(["Order"], 7.0, now)
    a.save()
    b.save()
    probe = SinkFreshness(tmp_path, window_s=900)
    assert probe("orders") == 0.5
    assert probe("Order") == 7.0
    assert probe("PLACED") == 2.0
    assert probe("customers") is None  # nothing reached it: not measured, not "fresh"
    assert SinkFreshness(tmp_path, window_s=7200)("orders") == 9.0


def test_a_log_keeps_only_its_latest_lags(tmp_path: Path) -> None:
    log = FreshnessLog(tmp_path, "elasticsearch", keep=3)
    for i in range(10):
        log.observe(["orders"], float(i), time.time())
    log.save()
    assert sorted(SinkFreshness(tmp_path).samples("orders")) == [7.0, 8.0, 9.0]


def test_graph_patterns_name_the_elements_the_contracts_give_slas() -> None:
    assert set(GRAPH_PATTERNS["order"].elements()) == {
        "Order",
        "Customer",
        "Product",
        "PLACED",
        "CONTAINS",
    }
    assert set(GRAPH_PATTERNS["customer"].elements()) == {"Customer", "City", "LIVES_IN"}
