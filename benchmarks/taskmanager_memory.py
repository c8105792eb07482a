"""The TaskManagers' resident memory while a run goes on, held to what they were configured with.

Flink sizes a TaskManager by `taskmanager.memory.process.size` (the launcher's
`flink_taskmanager_memory`): heap, managed memory (RocksDB), network buffers, metaspace and
overhead must fit in it, and the Python workers of process mode live outside it as child
processes. The sampler reads each TaskManager's RSS, children included (`localstack.process`),
from the pid files the launcher writes, so a run reports the peak of the whole TaskManager
(Python workers too: the stricter figure) against that budget (issue 13: "TaskManager RSS within
its configured process memory at 1M events").
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

from hindsight.settings import Settings
from localstack import process
from localstack.python_code import taskmanager_names
from localstack.server import pid_file_of
from localstack.settings import stack_settings


def mib_of(size: str) -> float:
    """Flink's memory size syntax as the launcher writes it (`3072m`, `3g`, `512mb`) in MiB."""
    text = size.strip().lower().removesuffix("b")
    units = {"k": 1 / 1024, "m": 1.0, "g": 1024.0, "t": 1024.0 * 1024}
    if text and text[-1] in units:
        return float(text[:-1]) * units[text[-1]]
    return float(text) / (1024 * 1024)  # plain bytes


@dataclass
class TaskManagerMemory:
    """Samples every TaskManager's RSS (with its children) in a thread until stopped."""

    s: Settings
    interval_s: float = 0.5
    peak_mib: dict[str, float] = field(default_factory=dict)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def start(self) -> TaskManagerMemory:
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> dict[str, Any]:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(10)
        return self.figures()

    def _run(self) -> None:
        names = taskmanager_names(self.s)
        while not self._stop.is_set():
            for name in names:
                record = process.read_pid(pid_file_of(self.s, name))
                rss = process.rss_mib(record.pid) if process.alive(record) and record else None
                if rss is not None:
                    self.peak_mib[name] = max(self.peak_mib.get(name, 0.0), rss)
            self._stop.wait(self.interval_s)

    def figures(self) -> dict[str, Any]:
        budget = mib_of(stack_settings(self.s).flink_taskmanager_memory)
        peak = max(self.peak_mib.values(), default=None)
        return {
            "peak_rss_mib": {k: round(v) for k, v in sorted(self.peak_mib.items())},
            "max_peak_rss_mib": None if peak is None else round(peak),
            "process_size_mib": round(budget),
            "within_process_size": None if peak is None else peak <= budget,
        }
