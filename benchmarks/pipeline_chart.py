"""The pipeline benchmark as a picture: `pipeline.png` beside `pipeline.json`.

Left, every rate of the run side by side (the figures the ratios divide); right, the end-to-end
run over time: the Outputs the job has put on the sink topics and what each sink worker has
committed, so a stall, a slow start or a sink that trails the job shows as a gap between lines.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # files only: no display on a server or in CI

import matplotlib.pyplot as plt  # noqa: E402 - after the backend is chosen


def rates(summary: dict[str, Any]) -> list[tuple[str, float]]:
    """(label, events/s) of each figure the run measured, in reading order."""
    named = [
        ("reference projector (1 core, no I/O)", summary.get("reference_eps")),
        ("job alone, 1 TaskManager", summary.get("job_1tm_eps")),
        ("job alone, 2 TaskManagers", summary.get("job_eps")),
        ("end to end (job + sinks)", summary.get("e2e_eps")),
        ("hand-written baseline", summary.get("baseline_eps")),
        ("Elasticsearch ceiling", summary.get("es_ceiling_eps")),
        ("Neo4j ceiling", summary.get("neo4j_ceiling_eps")),
    ]
    return [(label, float(v)) for label, v in named if v]


def draw(path: Path, summary: dict[str, Any], timeline: list[list[float]], title: str) -> Path:
    """Write the chart; `timeline` rows are (seconds, sink-topic outputs, ES committed, Neo4j
    committed) of the end-to-end run."""
    fig, (left, right) = plt.subplots(1, 2, figsize=(13, 5), layout="constrained")
    bars = rates(summary)
    if bars:
        labels, values = zip(*bars, strict=True)
        left.barh(labels, values, color="#4878a8")
        left.invert_yaxis()
        for y, v in enumerate(values):
            left.text(v, y, f" {v:,.0f}", va="center", fontsize=8)
    left.set_xlabel("events/s")
    left.set_title("rates on one log")
    if timeline:
        t = [row[0] for row in timeline]
        for i, label in enumerate(("Outputs on the sink topics", "Elasticsearch committed",
                                   "Neo4j committed"), start=1):  # fmt: skip
            right.plot(t, [row[i] for row in timeline], label=label)
        right.legend(loc="lower right", fontsize=8)
    right.set_xlabel("seconds since the job was submitted")
    right.set_ylabel("records")
    right.set_title("end to end over time")
    fig.suptitle(title)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
