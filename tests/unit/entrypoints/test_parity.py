"""Differences between a read model and the reference are told apart the way faults show:
lost, doubled (extra, or folded past the reference's version) and stale."""

from __future__ import annotations

from collections import Counter

from entrypoints.parity import GraphSnapshot, compare_es, compare_graphs

WANT = {
    ("orders", "o1"): {"status": "paid", "version": 3},
    ("orders", "o2"): {"status": "placed", "version": 1},
}


def test_equal_documents_are_equal() -> None:
    result = compare_es(WANT, dict(WANT))
    assert result.equal and result.checked == 2


def test_a_missing_document_is_lost_and_an_extra_one_doubled() -> None:
    got = {("orders", "o1"): WANT[("orders", "o1")], ("orders", "o9"): {"version": 1}}
    result = compare_es(WANT, got)
    assert (result.lost, result.doubled, result.stale) == (1, 1, 0)
    assert not result.equal


def test_an_older_version_is_stale_and_a_newer_one_doubled() -> None:
    older = {**WANT, ("orders", "o1"): {"status": "placed", "version": 2}}
    assert (compare_es(WANT, older).stale, compare_es(WANT, older).doubled) == (1, 0)
    newer = {**WANT, ("orders", "o1"): {"status": "paid", "version": 4}}
    assert (compare_es(WANT, newer).stale, compare_es(WANT, newer).doubled) == (0, 1)
    other = {**WANT, ("orders", "o1"): {"status": "shipped", "version": 3}}
    assert compare_es(WANT, other).stale == 1


def snapshot(nodes: dict, rels: list) -> GraphSnapshot:  # type: ignore[type-arg]
    return GraphSnapshot(nodes, Counter(rels))


LINE = ("Order", "o1", "CONTAINS", (("quantity", "1"),), "Product", "p1")
NODES = {("Order", "o1"): {"id": "o1", "version": 2}, ("Product", "p1"): {"id": "p1"}}


def test_graphs_equal_and_a_relationship_written_twice_is_doubled() -> None:
    want = snapshot(NODES, [LINE])
    assert compare_graphs(want, snapshot(dict(NODES), [LINE])).equal
    twice = compare_graphs(want, snapshot(dict(NODES), [LINE, LINE]))
    assert (twice.lost, twice.doubled, twice.stale) == (0, 1, 0)


def test_a_missing_relationship_is_lost_and_a_changed_one_stale() -> None:
    want = snapshot(NODES, [LINE])
    missing = compare_graphs(want, snapshot(dict(NODES), []))
    assert (missing.lost, missing.doubled, missing.stale) == (1, 0, 0)
    changed = (*LINE[:3], (("quantity", "2"),), *LINE[4:])
    stale = compare_graphs(want, snapshot(dict(NODES), [changed]))
    assert (stale.lost, stale.doubled, stale.stale) == (0, 0, 1)


def test_a_node_behind_the_reference_is_stale() -> None:
    want = snapshot(NODES, [])
    behind = {**NODES, ("Order", "o1"): {"id": "o1", "version": 1}}
    result = compare_graphs(want, snapshot(behind, []))
    assert (result.lost, result.doubled, result.stale) == (0, 0, 1)
