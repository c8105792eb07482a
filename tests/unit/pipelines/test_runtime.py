"""The fold step: duplicates are no-ops, versions count distinct events, state pickles."""

from __future__ import annotations

import pickle
from typing import Any

import pytest

from pipelines.model import Event, Output, Projection
from pipelines.runtime import INTERNAL, KeyState, internal, route_all, stages_of, step


def _count_fold(state: int | None, _key: str, event: Event) -> int:
    return (state or 0) + int(event["data"]["n"])


def _count_render(key: str, state: int, version: int) -> list[Output]:
    return [Output("elasticsearch", "counts", key, version, {"total": state})]


COUNTER = Projection(
    name="counter",
    route=lambda e: [(str(e["data"]["k"]), e)],
    fold=_count_fold,
    render=_count_render,
    event_types=frozenset({"Added"}),
)


def ev(stream_id: str, version: int, n: int = 1, k: str = "x") -> dict[str, Any]:
    return {
        "event_type": "Added",
        "aggregate_type": "thing",
        "aggregate_id": stream_id,
        "version": version,
        "data": {"k": k, "n": n},
    }


def test_a_duplicate_or_replayed_event_is_a_no_op() -> None:
    s1, out1 = step(COUNTER, None, "x", ev("a", 1, 5))
    s2, out2 = step(COUNTER, s1, "x", ev("a", 2, 7))
    again, none = step(COUNTER, s2, "x", ev("a", 2, 7))
    older, none_either = step(COUNTER, s2, "x", ev("a", 1, 5))
    assert again is s2 and older is s2  # same object: the caller may skip the state write
    assert none == [] and none_either == []
    assert (s2.inner, s2.version) == (12, 2) and out2[0].version == 2 and out1[0].version == 1


def test_the_version_counts_distinct_events_across_streams() -> None:
    state = None
    for e in [ev("a", 1), ev("b", 1), ev("a", 2), ev("b", 1), ev("c", 1), ev("a", 2)]:
        state, _ = step(COUNTER, state, "x", e)
    assert state is not None
    assert (state.version, state.inner) == (4, 4)
    assert state.seen == {"thing/a": 2, "thing/b": 1, "thing/c": 1}


def test_step_does_not_mutate_the_state_it_was_given() -> None:
    s1, _ = step(COUNTER, None, "x", ev("a", 1))
    seen_before = dict(s1.seen)
    step(COUNTER, s1, "x", ev("b", 1))
    assert s1.seen == seen_before and s1.version == 1


def test_internal_events_are_folded_without_a_seen_entry() -> None:
    body = internal("counter", "x", 3, "Added", {"k": "x", "n": 2}).body
    s1, _ = step(COUNTER, None, "x", body)
    s2, outputs = step(COUNTER, s1, "x", body)  # a second, distinct internal fact
    assert s2.seen == {} and s2.version == 2 and s2.inner == 4 and outputs[0].version == 2


def test_key_state_pickles_small() -> None:
    state, _ = step(COUNTER, None, "x", ev("a", 1))
    raw = pickle.dumps(state, protocol=pickle.HIGHEST_PROTOCOL)
    back = pickle.loads(raw)
    assert isinstance(back, KeyState) and back == state and len(raw) < 120


def test_route_all_names_projection_key_and_event() -> None:
    e = ev("a", 1, k="key-1")
    assert route_all([COUNTER], e) == [("counter", "key-1", e)]
    assert route_all([COUNTER], {**e, "event_type": "Other"}) == []


def test_internal_output_is_an_event_for_the_next_stage() -> None:
    out = internal("orders", "o-1", 4, "LineNamed", {"order_id": "o-1"})
    assert (out.sink, out.target, out.id, out.version) == (INTERNAL, "orders", "o-1", 4)
    assert out.body == {"event_type": "LineNamed", "data": {"order_id": "o-1"}}


def _named(name: str) -> Projection:
    return Projection(name, lambda e: [], lambda s, k, e: s, lambda k, s, v: [])


def test_stages_put_every_consumer_one_stage_after_its_emitter() -> None:
    a, b, c, d = (_named(n) for n in "abcd")
    levels = stages_of([a, b, c, d], {"a": ("b", "c"), "b": ("d",)})
    assert [[p.name for p in level] for level in levels] == [["a"], ["b", "c"], ["d"]]


def test_stages_refuse_cycles_and_skipped_stages() -> None:
    a, b, c = (_named(n) for n in "abc")
    with pytest.raises(ValueError, match="cycle"):
        stages_of([a, b], {"a": ("b",), "b": ("a",)})
    with pytest.raises(ValueError, match="skips a stage"):
        stages_of([a, b, c], {"a": ("b", "c"), "b": ("c",)})
