"""A store's position is the lowest durable mark over the job's writer subtasks."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from connectors.positions import Durable, Mark, frontier, latest_marks, parse_mark


def test_a_mark_is_parsed_and_a_change_is_not_a_mark() -> None:
    assert parse_mark(b'{"mark":42,"subtask":1,"of":2}') == Mark(42, 1, 2)
    change = b'{"sink":"neo4j","target":"order","id":"o","version":1,"body":{"mark":3}}'
    assert parse_mark(change) is None
    assert parse_mark(None) is None
    assert parse_mark(b'{"mark": "x"}') is None  # not a mark after all: judged as a change


def test_the_frontier_waits_for_every_subtask_then_takes_the_lowest() -> None:
    assert frontier([]) == 0
    assert frontier([Durable(90, 0, 2, 1.0)]) == 0  # subtask 1 has said nothing yet
    assert frontier([Durable(90, 0, 2, 1.0), Durable(70, 1, 2, 2.0)]) == 70


def test_after_a_rescale_only_the_current_parallelism_counts() -> None:
    old = [Durable(500, 0, 2, 1.0), Durable(400, 1, 2, 1.0)]
    assert frontier([*old, Durable(450, 0, 1, 5.0)]) == 450
    # the other way: 1 -> 2, until both new subtasks have spoken nothing is promised beyond
    assert frontier([Durable(450, 0, 1, 1.0), Durable(600, 0, 2, 5.0)]) == 0


@given(st.lists(st.tuples(st.integers(0, 3), st.integers(1, 10**6)), min_size=1))
def test_latest_marks_keep_the_highest_per_subtask(pairs: list[tuple[int, int]]) -> None:
    marks = [Mark(position, subtask, 4) for subtask, position in pairs]
    kept = {m.subtask: m.position for m in latest_marks(marks)}
    want: dict[int, int] = {}
    for subtask, position in pairs:
        want[subtask] = max(want.get(subtask, 0), position)
    assert kept == want
