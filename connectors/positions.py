"""Read-model positions: how far along the event log a store is, exactly.

A store's position is a frontier, not the highest position it has seen: three keyed stages
and many partitions mean a change of position P can land after one of P + 100, and an event
may change nothing at all. So the projection job writes, into each sink topic, a mark of its
watermark (the log position every operator has passed, see jobs/dataflow.py) after the
changes it covers, one per writer subtask: `{"mark": W, "subtask": i, "of": n}`. A sink worker
that has made everything before such a mark durable saves it in the store itself (beside the
read model, so readers and restarts find it where the data is). The store holds every change
of every event up to the lowest mark of the n subtasks: `frontier`.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass

import orjson

_MARK_PREFIX = b'{"mark"'  # PositionMarks.java writes the field first


@dataclass(frozen=True)
class Mark:
    """A writer subtask's watermark on a sink topic: `subtask` of `of` has emitted every
    change of every event up to `position` before this record."""

    position: int
    subtask: int
    of: int


@dataclass(frozen=True)
class Durable:
    """A mark a store has made durable (everything before it is written), and when."""

    position: int
    subtask: int
    of: int
    saved_at: float


def parse_mark(value: bytes | None) -> Mark | None:
    """The mark in a sink-topic record, or None for a change (or anything else)."""
    if value is None or not value.startswith(_MARK_PREFIX):
        return None
    try:
        d = orjson.loads(value)
        return Mark(int(d["mark"]), int(d["subtask"]), int(d["of"]))
    except (orjson.JSONDecodeError, KeyError, TypeError, ValueError):
        return None  # not a mark after all: the worker judges it as a change


def latest_marks(marks: Iterable[Mark]) -> list[Mark]:
    """The highest mark per subtask (a batch may hold several)."""
    best: dict[tuple[int, int], Mark] = {}
    for m in marks:
        held = best.get((m.subtask, m.of))
        if held is None or m.position > held.position:
            best[(m.subtask, m.of)] = m
    return list(best.values())


def durable(marks: Iterable[Mark], at: float | None = None) -> list[Durable]:
    now = time.time() if at is None else at
    return [Durable(m.position, m.subtask, m.of, now) for m in marks]


def frontier(entries: Iterable[Durable]) -> int:
    """The position up to which the store holds every change: the lowest durable mark over
    all writer subtasks of the job's current parallelism (the `of` of the newest entry; a
    job rescaled from 2 to 1 leaves subtask 1's old entry, which no longer counts). 0 while
    any subtask has none: nothing is promised until every one has spoken."""
    entries = list(entries)
    if not entries:
        return 0
    n = max(entries, key=lambda e: e.saved_at).of
    by_subtask: dict[int, int] = {}
    for e in entries:
        if e.of == n:
            by_subtask[e.subtask] = max(by_subtask.get(e.subtask, 0), e.position)
    if any(i not in by_subtask for i in range(n)):
        return 0
    return min(by_subtask[i] for i in range(n))
