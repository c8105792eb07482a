"""GroupCommit alone, with an in-memory write function standing in for a backend."""

from __future__ import annotations

import threading
import time

import pytest

from hindsight.events import NewEvent
from hindsight.eventstore.base import AppendResult, ConcurrencyError, StreamAppend
from hindsight.eventstore.group_commit import GroupCommit, PendingAppend


def pending(stream: str) -> PendingAppend:
    return PendingAppend([StreamAppend("t", stream, 0, [NewEvent("E", {})])], None, None, None)


class Recorder:
    """Writes a group by recording it; can be told to refuse or to crash on a stream."""

    def __init__(self, refuse: str = "", crash_on: str = "", hold: threading.Event | None = None):
        self.groups: list[list[str]] = []
        self.refuse, self.crash_on, self.hold = refuse, crash_on, hold
        self.holding = threading.Event()  # set once the first leader is inside its "fsync"

    def __call__(self, group: list[PendingAppend]) -> None:
        if self.hold is not None and not self.groups:
            self.holding.set()
            # the first leader is "fsyncing" while others queue up
            assert self.hold.wait(10), "the test never released the held commit"
        names = [p.appends[0].aggregate_id for p in group]
        if self.crash_on in names and len(group) > 1:
            raise OSError("disk full")  # the whole group rolls back
        for p in group:
            a = p.appends[0]
            if a.aggregate_id == self.refuse:
                p.error = ConcurrencyError("t", a.aggregate_id, 0, 1)
            else:
                p.result = [AppendResult("t", a.aggregate_id, 1, 1, 1)]
        self.groups.append(names)


def run_held(commit: GroupCommit, write: Recorder, streams: list[str]) -> dict[str, object]:
    """Submit from one thread per stream, in this order, while the first group's commit is
    held back; then let it go and return each stream's answer (a result or an error)."""
    write.hold = threading.Event()
    outcome: dict[str, object] = {}

    def one(stream: str) -> None:
        try:
            outcome[stream] = commit.submit(pending(stream), write)
        except Exception as exc:
            outcome[stream] = exc

    threads = [threading.Thread(target=one, args=(s,)) for s in streams]
    threads[0].start()
    assert write.holding.wait(10), "the first caller never started its commit"
    for queued, t in enumerate(threads[1:], start=1):
        t.start()  # queue in a known order: each caller is in the queue before the next starts
        deadline = time.monotonic() + 10
        while commit.waiting < queued:
            assert time.monotonic() < deadline, f"caller {queued} never queued"
            time.sleep(0.001)
    write.hold.set()
    for t in threads:
        t.join()
    return outcome


def test_a_lone_caller_is_a_group_of_one() -> None:
    commit, write = GroupCommit(), Recorder()
    commit.submit(pending("a"), write)
    commit.submit(pending("b"), write)
    assert write.groups == [["a"], ["b"]]


def test_callers_queued_behind_a_commit_share_the_next_one() -> None:
    commit, write = GroupCommit(), Recorder()
    run_held(commit, write, ["first", "b", "c", "d"])
    assert write.groups == [["first"], ["b", "c", "d"]]
    assert commit.groups == 2 and commit.members == 4


def test_a_refused_member_fails_alone() -> None:
    outcome = run_held(GroupCommit(), Recorder(refuse="c"), ["first", "b", "c", "d"])
    assert isinstance(outcome["c"], ConcurrencyError)
    assert all(isinstance(outcome[s], list) for s in ("first", "b", "d"))


def test_a_crashed_group_is_retried_member_by_member() -> None:
    write = Recorder(crash_on="c")
    outcome = run_held(GroupCommit(), write, ["first", "b", "c", "d"])
    # the group [b, c, d] crashed; alone, c is written too (the crash needed a group)
    assert write.groups == [["first"], ["b"], ["c"], ["d"]]
    assert all(isinstance(v, list) for v in outcome.values())


def test_max_group_bounds_a_commit() -> None:
    write = Recorder()
    run_held(GroupCommit(max_group=2), write, ["first", "b", "c", "d", "e"])
    assert [len(g) for g in write.groups] == [1, 2, 2]


def test_an_error_reaches_only_its_caller() -> None:
    commit = GroupCommit()

    def crash(group: list[PendingAppend]) -> None:
        raise OSError("gone")

    with pytest.raises(OSError, match="gone"):
        commit.submit(pending("a"), crash)
    assert commit.submit(pending("b"), Recorder()) == [AppendResult("t", "b", 1, 1, 1)]
