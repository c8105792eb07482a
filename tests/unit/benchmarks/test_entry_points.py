"""Every benchmark module runs as `python -m benchmarks.<name>` (a lost main guard makes
`make bench-*` exit 0 having measured nothing)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parents[3] / "benchmarks"
RUNNABLE = sorted(p.stem for p in BENCHMARKS.glob("*.py") if "def main(" in p.read_text())


def test_the_benchmarks_are_found() -> None:
    assert {"bench_store", "bench_load", "bench_stack", "report"} <= set(RUNNABLE)


@pytest.mark.parametrize("name", [n for n in RUNNABLE if n != "report"])
def test_help_answers(name: str) -> None:
    run = subprocess.run(
        [sys.executable, "-m", f"benchmarks.{name}", "--help"],
        capture_output=True, text=True, timeout=120, cwd=BENCHMARKS.parent,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    assert "usage:" in run.stdout
