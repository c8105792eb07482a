"""Sealing: a value opens only with its subject's key, for its field; erasure reads as null."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hindsight.shredding import (
    EventOpener,
    Policy,
    SealError,
    is_sealed,
    new_key,
    open_data,
    seal,
    seal_data,
    unseal,
)

POLICY = Policy({"Registered": frozenset({"name"})}, frozenset({"Forgotten"}))
JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**53), 2**53) | st.text(),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(), inner, max_size=3),
    max_leaves=8,
)


@given(JSON)
def test_a_sealed_value_opens_to_itself_and_shows_nothing_of_it(value: object) -> None:
    key = new_key()
    sealed = seal(key, "person:p1", "name", value)
    assert is_sealed(sealed) and unseal(key, "person:p1", "name", sealed) == value
    if isinstance(value, str) and len(value) > 3:
        assert value not in sealed


def test_it_does_not_open_with_another_key_subject_or_field() -> None:
    key = new_key()
    sealed = seal(key, "person:p1", "name", "Ada")
    for other in ((new_key(), "person:p1", "name"), (key, "person:p2", "name"),
                  (key, "person:p1", "email")):  # fmt: skip
        with pytest.raises(SealError):
            unseal(*other, sealed)
    with pytest.raises(SealError):
        unseal(key, "person:p1", "name", sealed[:-2] + "AA")  # tampered


def test_without_a_key_a_sealed_field_reads_null_and_new_data_is_not_kept() -> None:
    key = new_key()
    data = seal_data(POLICY, key, "person:p1", "Registered", {"name": "Ada", "city": "Oslo"})
    assert data["city"] == "Oslo" and is_sealed(data["name"])
    assert open_data(POLICY, key, "person:p1", "Registered", data)["name"] == "Ada"
    assert open_data(POLICY, None, "person:p1", "Registered", data) == {
        "name": None,
        "city": "Oslo",
    }
    assert seal_data(POLICY, None, "person:p1", "Registered", {"name": "Ada"}) == {"name": None}
    # a clear value (stored before sealing began) passes as it is
    assert open_data(POLICY, None, "person:p1", "Registered", {"name": "Old"}) == {"name": "Old"}


class _Reader:
    def __init__(self, keys: dict[str, bytes | None]) -> None:
        self.store, self.asked = keys, 0

    def keys(self, subjects: object) -> dict[str, bytes | None]:
        self.asked += 1
        return {s: self.store[s] for s in subjects if s in self.store}  # type: ignore[attr-defined]


def test_the_opener_asks_once_per_subject_and_leaves_other_events_alone() -> None:
    key = new_key()
    reader = _Reader({"person:p1": key})
    opener = EventOpener(POLICY, reader)
    sealed = seal_data(POLICY, key, "person:p1", "Registered", {"name": "Ada"})
    event = {"event_type": "Registered", "aggregate_type": "person", "aggregate_id": "p1",
             "data": sealed}  # fmt: skip
    assert opener(event)["data"] == {"name": "Ada"}
    assert opener(event)["data"] == {"name": "Ada"} and reader.asked == 1
    other = {"event_type": "Moved", "aggregate_type": "person", "aggregate_id": "p1", "data": {}}
    assert opener(other) is other


def test_the_opener_refuses_sealed_data_its_store_has_no_key_row_for() -> None:
    """Not null: a job reading another store's keys would silently drop everyone's data."""
    sealed = seal_data(POLICY, new_key(), "person:p9", "Registered", {"name": "Ada"})
    event = {"event_type": "Registered", "aggregate_type": "person", "aggregate_id": "p9",
             "data": sealed}  # fmt: skip
    with pytest.raises(SealError, match="no key"):
        EventOpener(POLICY, _Reader({}))(event)
    assert EventOpener(POLICY, _Reader({"person:p9": None}))(event)["data"] == {"name": None}
