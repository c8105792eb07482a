"""Group commit: appends that arrive together share one transaction and one durable commit.

Why: a durable commit costs one fsync (about 0.3 ms on this machine's disk, see
`make bench-store`) whatever it carries, so a store that commits every append alone is capped
at ~3,000 appends/s however many writers it serves. Here a caller enqueues its append and
competes for the leader lock; the winner takes everything queued (its own append and those that
arrived while the previous group was being fsynced), writes them in queue order in ONE
transaction and commits once; the others find their answer already there when they get the
lock. A caller alone is a group of one: there is no timer and no waiting, so one writer's
latency is what it was.

Failure isolation: a member that fails its own checks (stale version, reused key) writes
nothing and gets its own error while the rest of the group commits. An unexpected database
error rolls the whole group back, and then every member is written alone, so one bad append
never fails its neighbours. Appends the backend cannot group (`groupable`) are written alone.
The lock is per store object (one process); other processes are serialised by the backend's
own write lock as before.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from hindsight.eventstore.base import AppendResult, StreamAppend


@dataclass(eq=False)
class PendingAppend:
    """One caller's append waiting for its group; the leader fills `result` or `error`."""

    appends: Sequence[StreamAppend]
    idempotency_key: str | None
    correlation_id: str | None
    causation_id: str | None
    result: list[AppendResult] | None = None
    error: BaseException | None = None
    done: bool = field(default=False)

    def answer(self) -> list[AppendResult]:
        if self.error is not None:
            raise self.error
        assert self.result is not None, "a finished append has a result or an error"
        return self.result


WriteGroup = Callable[[list[PendingAppend]], None]
"""Writes every member in one transaction, setting each member's result or own error; raises
(having rolled back) on anything else."""


class GroupCommit:
    def __init__(self, max_group: int = 500) -> None:
        self.max_group = max_group
        self._queue: list[PendingAppend] = []
        self._changed = threading.Condition()
        self._leading = False
        self.groups = 0  # commits made; with `members`, what the benchmark reports
        self.members = 0

    @property
    def waiting(self) -> int:
        """Appends queued for the next group (for metrics, and for tests that order callers)."""
        with self._changed:
            return len(self._queue)

    def submit(
        self,
        pending: PendingAppend,
        write_group: WriteGroup,
        groupable: Callable[[PendingAppend], bool] = lambda _p: True,
    ) -> list[AppendResult]:
        """Followers sleep on one condition and all wake when a group is done, instead of
        taking a lock one after another just to find their answer (a chain of GIL hand-offs
        that made groups small)."""
        with self._changed:
            self._queue.append(pending)
        while True:
            with self._changed:
                while self._leading and not pending.done:
                    self._changed.wait()
                if pending.done:
                    return pending.answer()
                self._leading = True
                taken = self._queue[: self.max_group]
                del self._queue[: self.max_group]
            try:
                self._lead(taken, write_group, groupable)
            finally:
                with self._changed:
                    self._leading = False
                    self._changed.notify_all()

    def _lead(
        self,
        taken: list[PendingAppend],
        write_group: WriteGroup,
        groupable: Callable[[PendingAppend], bool],
    ) -> None:
        together = [p for p in taken if groupable(p)]
        alone = [[p] for p in taken if not groupable(p)]
        try:
            for group in ([together] if together else []) + alone:
                self._write(group, write_group)
        finally:
            for p in taken:  # even on KeyboardInterrupt no follower waits for ever
                if not p.done:
                    p.error = p.error or RuntimeError("append abandoned by its group's leader")
                    p.done = True

    def _write(self, group: list[PendingAppend], write_group: WriteGroup) -> None:
        try:
            write_group(group)
            self.groups += 1
            self.members += len(group)
        except Exception as exc:
            if len(group) == 1:
                group[0].error = exc
            else:
                for p in group:  # the group rolled back: isolate the culprit
                    p.result = p.error = None
                    self._write([p], write_group)
        for p in group:
            p.done = True
