"""The progress bar of long work along the log (replays, rebuilds): events done of a total,
events/s, ETA, and each phase's name logged once as it starts."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskProgressColumn,
    TextColumn,
    TimeRemainingColumn,
)

Show = Callable[[str, int, int], None]


@contextmanager
def along_the_log(console: Console, first: str) -> Iterator[Show]:
    """Yields `show(what, done, total)`; a total of 0 is a phase without a count."""
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TaskProgressColumn(),
        TextColumn("{task.fields[rate]}"),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=console) as bar:
        task = bar.add_task(first, total=None, rate="")
        started, phase = time.monotonic(), [first]

        def show(what: str, done: int, total: int) -> None:
            if what != phase[0]:
                phase[0] = what
                console.log(what)
            rate = done / max(time.monotonic() - started, 1e-6) if total else 0
            bar.update(task, description=what, completed=done, total=total or None,
                       rate=f"{rate:,.0f} events/s" if total else "")  # fmt: skip

        yield show
