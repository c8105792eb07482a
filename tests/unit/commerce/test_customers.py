from __future__ import annotations

import pytest
from hypothesis import given as for_all
from hypothesis import strategies as st

from commerce.base import InvalidCommand, UnknownCommand, UnknownEventType
from commerce.catalog import ChangePrice
from commerce.customers import (
    AGGREGATE,
    ChangeCustomerAddress,
    Customer,
    CustomerAlreadyRegistered,
    CustomerIsForgotten,
    CustomerNotFound,
    ForgetCustomer,
    RegisterCustomer,
)
from commerce.schema import redact
from tests.unit.commerce.support import decide, fold, given

ADA = RegisterCustomer("c-1", "Ada Lovelace", "ada@example.org", "1 Analytical St", "London", "gb")
MOVE = ChangeCustomerAddress("c-1", "2 Engine Rd", "Cambridge", "GB")
FORGET = ForgetCustomer("c-1")
PII = ("Ada Lovelace", "ada@example.org", "1 Analytical St", "2 Engine Rd")


def test_register_emits_the_details_with_country_upper_cased() -> None:
    state, events = given(ADA)
    assert [e.event_type for e in events] == ["CustomerRegistered"]
    assert events[0].data == {
        "customer_id": "c-1",
        "name": "Ada Lovelace",
        "email": "ada@example.org",
        "street": "1 Analytical St",
        "city": "London",
        "country": "GB",
    }
    assert state == Customer(
        "c-1", "Ada Lovelace", "ada@example.org", "1 Analytical St", "London", "GB"
    )


def test_register_twice_is_rejected_naming_the_customer() -> None:
    state, _ = given(ADA)
    with pytest.raises(CustomerAlreadyRegistered, match="'c-1'") as err:
        decide(AGGREGATE, state, ADA)
    assert err.value.code == "customer_already_registered"


def test_change_address_replaces_the_whole_address() -> None:
    state, events = given(ADA, MOVE)
    assert events[-1].event_type == "CustomerAddressChanged"
    assert (state.street, state.city, state.country) == ("2 Engine Rd", "Cambridge", "GB")
    assert state.name == "Ada Lovelace"


def test_change_to_the_same_address_emits_nothing() -> None:
    state, _ = given(ADA, MOVE)
    assert decide(AGGREGATE, state, MOVE) == []


@pytest.mark.parametrize("command", [MOVE, FORGET])
def test_commands_on_an_unknown_customer_are_not_found(command: object) -> None:
    with pytest.raises(CustomerNotFound, match="'c-1'") as err:
        decide(AGGREGATE, Customer(), command)
    assert err.value.code == "customer_not_found"


def test_forget_drops_pii_from_state_and_the_event_carries_none() -> None:
    state, events = given(ADA, MOVE, FORGET)
    forgotten = events[-1]
    assert forgotten.event_type == "CustomerForgotten"
    assert forgotten.data == {"customer_id": "c-1"}
    assert state == Customer("c-1", None, None, None, "Cambridge", "GB", forgotten=True)
    assert not any(p in repr(state) for p in PII)


def test_forget_twice_is_an_idempotent_no_op() -> None:
    state, _ = given(ADA, FORGET)
    assert decide(AGGREGATE, state, FORGET) == []


@pytest.mark.parametrize("command", [ADA, MOVE])
def test_no_commands_on_a_forgotten_customer(command: object) -> None:
    state, _ = given(ADA, FORGET)
    with pytest.raises(CustomerIsForgotten, match="'c-1'") as err:
        decide(AGGREGATE, state, command)
    assert err.value.code == "customer_forgotten"


def test_history_redacted_by_the_store_still_folds_to_the_forgotten_state() -> None:
    state, events = given(ADA, MOVE, FORGET)
    redacted = [(e.event_type, redact(e.event_type, e.data)) for e in events]
    assert not any(p in repr(redacted) for p in PII)
    assert AGGREGATE.fold(redacted) == state


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"email": "not-an-email"}, "email"),
        ({"name": "   "}, "name"),
        ({"country": "Germany"}, "country"),
        ({"customer_id": "has space"}, "customer_id"),
        ({"city": 42}, "city"),
    ],
)
def test_malformed_registration_is_invalid_naming_the_field(kwargs: dict, field: str) -> None:
    good = {
        "customer_id": "c-1",
        "name": "Ada",
        "email": "a@b.org",
        "street": "s",
        "city": "c",
        "country": "DE",
    }
    with pytest.raises(InvalidCommand) as err:
        RegisterCustomer(**{**good, **kwargs})
    assert err.value.field == field
    assert err.value.code == "invalid_command"
    assert str(err.value).startswith(f"RegisterCustomer: invalid {field}:")


def test_foreign_commands_and_events_are_refused() -> None:
    with pytest.raises(UnknownCommand):
        decide(AGGREGATE, Customer(), ChangePrice("p-1", 100))
    with pytest.raises(UnknownEventType):
        AGGREGATE.evolve(Customer(), "OrderPlaced", {})


commands = st.lists(
    st.sampled_from([ADA, MOVE, FORGET, ChangeCustomerAddress("c-1", "x", "y", "FR")])
)


@for_all(commands)
def test_any_sequence_folds_back_and_never_keeps_pii_after_erasure(seq: list) -> None:
    state, accepted = Customer(), []
    for command in seq:
        try:
            events = decide(AGGREGATE, state, command)
        except (CustomerNotFound, CustomerAlreadyRegistered, CustomerIsForgotten):
            continue
        accepted += events
        state = fold(AGGREGATE, accepted)
        if state.forgotten:
            assert (state.name, state.email, state.street) == (None, None, None)
    assert fold(AGGREGATE, accepted) == state
    assert [e.event_type for e in accepted].count("CustomerForgotten") <= 1
