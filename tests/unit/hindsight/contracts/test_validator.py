# ruff: noqa: E501 - case tables keep one case per line, so each reads as a sentence
"""The runtime validator accepts everything the commerce aggregates emit and rejects each kind
of malformed event with a reason naming the field and the problem."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from typing import Any

import pytest

from commerce.schema import redact as erase
from hindsight.contracts.model import default_contracts
from hindsight.contracts.validator import (
    INVALID_FORMAT,
    MAX_EVENT_BYTES,
    MISSING_FIELD,
    NOT_JSON,
    OUT_OF_RANGE,
    TOO_LARGE,
    UNKNOWN_ENUM_VALUE,
    UNKNOWN_EVENT_TYPE,
    UNKNOWN_FIELD,
    UNSUPPORTED_SCHEMA_VERSION,
    WRONG_TYPE,
    Invalid,
    Validator,
    dead_letter,
    validate,
)
from hindsight.shredding import new_key, seal
from tests.unit.commerce.support import MemoryStore
from tests.unit.hindsight.contracts.scenario import commands, envelopes

VALIDATOR = Validator(default_contracts())
ENVELOPES = envelopes()


def _first(event_type: str) -> dict[str, Any]:
    return copy.deepcopy(next(e for e in ENVELOPES if e["event_type"] == event_type))


def test_the_scenario_covers_every_current_event_type() -> None:
    current = {
        s.event_type for c in default_contracts().values() for s in c.events(include_history=False)
    }
    assert {e["event_type"] for e in ENVELOPES} == current


@pytest.mark.parametrize("envelope", ENVELOPES, ids=lambda e: f"{e['position']}-{e['event_type']}")
def test_accepts_every_event_the_aggregates_emit(envelope: dict[str, Any]) -> None:
    raw = json.dumps(envelope).encode()
    assert VALIDATOR(raw) == envelope
    assert VALIDATOR(envelope) is envelope
    assert VALIDATOR(raw.decode()) == envelope


def test_validate_data_accepts_every_new_event_before_append() -> None:
    store = MemoryStore()
    for command in commands():
        store.handle(command)
    for _, _, event in store.log:
        assert VALIDATOR.validate_data(event.event_type, event.schema_version, event.data) is None


def test_accepts_erased_personal_data_and_superseded_versions() -> None:
    forgotten = _first("CustomerRegistered")
    forgotten["data"] = erase("CustomerRegistered", forgotten["data"])
    assert forgotten["data"]["email"] is None
    assert isinstance(VALIDATOR(forgotten), dict)
    v1 = _first("ProductCreated")
    v1["schema_version"] = 1
    v1["data"]["price"] = "12.50"
    del v1["data"]["price_cents"]
    assert isinstance(VALIDATOR(v1), dict)


Edit = Callable[[dict[str, Any]], Any]
MALFORMED: list[tuple[str, str, str, Edit]] = [
    ("missing envelope field", MISSING_FIELD, "aggregate_id", lambda e: e.pop("aggregate_id")),
    ("missing data field", MISSING_FIELD, "data.customer_id", lambda e: e["data"].pop("customer_id")),
    ("missing line field", MISSING_FIELD, "data.lines[1].quantity", lambda e: e["data"]["lines"][1].pop("quantity")),
    ("missing event_type", MISSING_FIELD, "event_type", lambda e: e.pop("event_type")),
    ("wrong type in data", WRONG_TYPE, "data.total_cents", lambda e: e["data"].__setitem__("total_cents", "2500")),
    ("bool is not an integer", WRONG_TYPE, "version", lambda e: e.__setitem__("version", True)),
    ("required null", WRONG_TYPE, "data.order_id", lambda e: e["data"].__setitem__("order_id", None)),
    ("data not an object", WRONG_TYPE, "data", lambda e: e.__setitem__("data", [])),
    ("line not an object", WRONG_TYPE, "data.lines[0]", lambda e: e["data"]["lines"].__setitem__(0, 7)),
    ("unknown event type", UNKNOWN_EVENT_TYPE, "event_type", lambda e: e.__setitem__("event_type", "OrderTeleported")),
    ("unknown enum value", UNKNOWN_ENUM_VALUE, "aggregate_type", lambda e: e.__setitem__("aggregate_type", "customer")),
    ("unsupported schema_version", UNSUPPORTED_SCHEMA_VERSION, "schema_version", lambda e: e.__setitem__("schema_version", 9)),
    ("unknown data field", UNKNOWN_FIELD, "data.coupon", lambda e: e["data"].__setitem__("coupon", "X")),
    ("unknown line field", UNKNOWN_FIELD, "data.lines[0].colour", lambda e: e["data"]["lines"][0].__setitem__("colour", "red")),
    ("bad timestamp", INVALID_FORMAT, "recorded_at", lambda e: e.__setitem__("recorded_at", "yesterday")),
    ("bad id", INVALID_FORMAT, "data.customer_id", lambda e: e["data"].__setitem__("customer_id", " c 1")),
    ("negative money", OUT_OF_RANGE, "data.total_cents", lambda e: e["data"].__setitem__("total_cents", -1)),
    ("no lines", OUT_OF_RANGE, "data.lines", lambda e: e["data"].__setitem__("lines", [])),
]  # fmt: skip


@pytest.mark.parametrize(
    ("kind", "field", "edit"), [m[1:] for m in MALFORMED], ids=[m[0] for m in MALFORMED]
)
def test_rejects_each_kind_of_malformed_event(kind: str, field: str, edit: Edit) -> None:
    envelope = _first("OrderPlaced")
    edit(envelope)
    for message in (envelope, json.dumps(envelope).encode()):
        result = VALIDATOR(message)
        assert isinstance(result, Invalid), result
        assert (result.kind, result.field) == (kind, field), result
        assert str(result).startswith(f"{kind}: {field}: ")


def test_enum_inside_data() -> None:
    cancelled = _first("OrderCancelled")
    cancelled["data"]["previous_status"] = "shipped"
    result = VALIDATOR(cancelled)
    assert isinstance(result, Invalid)
    assert (result.kind, result.field) == (UNKNOWN_ENUM_VALUE, "data.previous_status")


@pytest.mark.parametrize("raw", [b"{not json", b"\xff\xfe\x00", b"", b"[1, 2]", b'"text"'])
def test_not_json(raw: bytes) -> None:
    result = VALIDATOR(raw)
    assert isinstance(result, Invalid) and result.kind == NOT_JSON


def test_validate_data_reasons() -> None:
    assert VALIDATOR.validate_data("Nope", 1, {}).kind == UNKNOWN_EVENT_TYPE  # type: ignore[union-attr]
    assert VALIDATOR.validate_data("OrderPaid", 3, {}).kind == UNSUPPORTED_SCHEMA_VERSION  # type: ignore[union-attr]
    problem = VALIDATOR.validate_data("OrderPaid", 1, {"order_id": "o-1"})
    assert problem is not None and (problem.kind, problem.field) == (
        MISSING_FIELD,
        "data.amount_cents",
    )


def test_fast_path_never_accepts_what_the_precise_check_rejects() -> None:
    # Every malformed case above must fail the generated fast path too (else it would pass).
    for _, _, _, edit in MALFORMED:
        envelope = _first("OrderPlaced")
        edit(envelope)
        versions = VALIDATOR._versions.get(envelope.get("event_type"), {})  # noqa: SLF001
        compiled = versions.get(envelope.get("schema_version"))
        if compiled is not None:
            assert compiled[2](envelope) is False


def test_module_level_validate_and_dead_letter() -> None:
    raw = json.dumps(_first("OrderPaid")).encode()
    assert isinstance(validate(raw), dict)
    bad = raw.replace(b'"amount_cents"', b'"amount"')
    reason = validate(bad)
    assert isinstance(reason, Invalid)
    letter = json.loads(
        dead_letter(
            bad, reason, source_topic="hindsight.orders.events", partition=2, offset=7, job="orders"
        )
    )
    import base64

    assert base64.b64decode(letter["original"]) == bad
    assert letter["reason"] == str(reason) and letter["partition"] == 2
    assert set(letter) == {f.name for f in default_contracts()["platform"].schemas[0].properties}


def test_json_parsing_is_strict_utf8_json() -> None:
    raw = json.dumps(_first("OrderPaid")).encode()
    for ok in (b"  " + raw + b"\n", bytearray(raw), raw.decode()):
        assert isinstance(VALIDATOR(ok), dict)
    # the wire format is UTF-8 JSON: anything else is not JSON, whatever json.loads tolerates
    nan = raw.replace(b'"amount_cents":', b'"amount_cents":NaN,"x":', 1)
    for bad in (raw + b" x", raw + raw, raw[:-1], raw.decode().encode("utf-16"), nan):
        result = VALIDATOR(bad)
        assert isinstance(result, Invalid) and result.kind == NOT_JSON


def test_a_record_over_the_largest_event_is_refused_before_parsing() -> None:
    event = _first("CustomerRegistered")
    event["data"]["street"] = "x" * MAX_EVENT_BYTES  # valid by the contract, only too big
    raw = json.dumps(event).encode()
    result = VALIDATOR(raw)
    assert isinstance(result, Invalid) and result.kind == TOO_LARGE
    assert str(len(raw)) in result.detail
    event["data"]["street"] = "1 Main St"
    assert not isinstance(VALIDATOR(json.dumps(event).encode()), Invalid)


def test_a_sealed_value_passes_where_the_contract_seals_the_field_only() -> None:
    """On the log an `encrypted` field holds a sealed value (its clear value was checked at
    append); the same string in a field the contract does not seal is still a bad format."""
    registered = _first("CustomerRegistered")
    sealed = seal(new_key(), "customer:c", "email", "ada@example.org")
    assert VALIDATOR({**registered, "data": {**registered["data"], "email": sealed}}) == {
        **registered,
        "data": {**registered["data"], "email": sealed},
    }
    placed = _first("OrderPlaced")
    result = VALIDATOR({**placed, "event_id": sealed})
    assert isinstance(result, Invalid) and result.kind == INVALID_FORMAT
