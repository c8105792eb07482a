"""The envelope keeps a frozen dataclass's behaviour with its faster constructor."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

import pytest

from hindsight.events import ENVELOPE_FIELDS, Envelope

T = datetime(2026, 1, 2, 3, 4, 5, 6000, tzinfo=UTC)


def envelope(**changes: object) -> Envelope:
    e = Envelope("id-1", "Added", 1, "counter", "c1", 3, 7, T, T, "corr", None, {"n": 1})
    return dataclasses.replace(e, **changes) if changes else e


def test_fields_are_the_wire_fields_in_order() -> None:
    assert tuple(f.name for f in dataclasses.fields(Envelope)) == ENVELOPE_FIELDS


def test_positional_and_keyword_construction_are_the_same_event() -> None:
    by_name = Envelope(
        event_id="id-1", event_type="Added", schema_version=1, aggregate_type="counter",
        aggregate_id="c1", version=3, position=7, occurred_at=T, recorded_at=T,
        correlation_id="corr", causation_id=None, data={"n": 1},
    )  # fmt: skip
    assert by_name == envelope()
    assert envelope() != envelope(version=4)
    assert "version=3" in repr(envelope())


def test_an_envelope_cannot_be_changed() -> None:
    e = envelope()
    with pytest.raises(dataclasses.FrozenInstanceError):
        e.version = 9  # type: ignore[misc]
    assert dataclasses.replace(e, version=9).version == 9 and e.version == 3


def test_data_defaults_to_a_fresh_dict() -> None:
    a = Envelope("a", "T", 1, "t", "i", 1, 1, T, T, None, None)
    b = Envelope("b", "T", 1, "t", "i", 1, 2, T, T, None, None)
    assert a.data == {} and a.data is not b.data


def test_json_round_trip() -> None:
    assert Envelope.from_json(envelope().to_json()) == envelope()
