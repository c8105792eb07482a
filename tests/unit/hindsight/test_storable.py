"""Values every backend and read model can keep: what is refused, and the field path named."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hindsight.storable import (
    FLOAT_REASON,
    INT_REASON,
    NUL_REASON,
    SURROGATE_REASON,
    UnstorableValue,
    check_text,
    find_unstorable,
    refuse_unstorable,
)


@pytest.mark.parametrize(
    ("value", "found"),
    [
        ({"name": "Ada\x00"}, ("name", NUL_REASON)),
        (
            {"lines": [{"product_id": "p1"}, {"product_id": "\udc80"}]},
            ("lines[1].product_id", SURROGATE_REASON),
        ),
        ({"a": {"b\x00": 1}}, ("a.<key>", NUL_REASON)),
        (["ok", "\ud800x"], ("[1]", SURROGATE_REASON)),
        ({"name": "Ada", "n": 1, "x": None, "f": 1.5, "t": ("é", "\U0001f600")}, None),
        ({"memo": "\\u0000 written out"}, None),
    ],
)
def test_find_unstorable_names_the_first_bad_field(value: object, found: object) -> None:
    assert find_unstorable(value) == found


def test_refusals_carry_field_and_reason() -> None:
    with pytest.raises(UnstorableValue) as err:
        refuse_unstorable({"email": "a\x00@b"}, "events[0].data")
    assert (err.value.field, err.value.reason) == ("events[0].data.email", NUL_REASON)
    assert "events[0].data.email" in str(err.value)
    check_text(None, "idempotency_key")  # absent is fine
    with pytest.raises(UnstorableValue, match="aggregate_id"):
        check_text("c\ud800", "aggregate_id")


@given(st.text())
def test_any_encodable_text_without_nul_is_storable(text: str) -> None:
    expected = NUL_REASON if "\x00" in text else None
    assert find_unstorable({"k": [text]}) == (None if expected is None else ("k[0]", expected))


@pytest.mark.parametrize(
    ("value", "found"),
    [
        ({"price": 2**63}, ("price", INT_REASON)),
        ({"price": -(2**63) - 1}, ("price", INT_REASON)),
        ({"lines": [{"q": float("nan")}]}, ("lines[0].q", FLOAT_REASON)),
        ({"x": float("-inf")}, ("x", FLOAT_REASON)),
        ({"price": 2**63 - 1, "low": -(2**63), "ok": True, "f": 1e308}, None),
    ],
)
def test_numbers_beyond_what_read_models_hold_are_found(value: object, found: object) -> None:
    assert find_unstorable(value, numbers=True) == found
    assert find_unstorable(value) is None  # the store itself checks text only
