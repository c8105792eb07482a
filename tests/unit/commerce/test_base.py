from __future__ import annotations

import pytest

from commerce.base import InvalidCommand, UnknownEventType
from commerce.catalog import CreateProduct
from commerce.customers import ChangeCustomerAddress
from commerce.orders import ShipOrder


def test_text_fields_have_a_maximum_length() -> None:
    with pytest.raises(InvalidCommand, match="at most 200 characters, got 201") as err:
        CreateProduct("p-1", "x" * 201, "c", 1)
    assert err.value.field == "name"


def test_optional_text_may_be_none_but_not_blank() -> None:
    assert ShipOrder("o-1").tracking_number is None
    with pytest.raises(InvalidCommand, match="blank"):
        ShipOrder("o-1", " ")


def test_country_is_normalised_to_upper_case() -> None:
    assert ChangeCustomerAddress("c-1", "s", "c", "fr").country == "FR"


def test_booleans_are_not_integers() -> None:
    with pytest.raises(InvalidCommand, match="must be an integer, got bool"):
        CreateProduct("p-1", "n", "c", False)  # type: ignore[arg-type]


def test_invalid_command_exposes_field_reason_and_details() -> None:
    with pytest.raises(InvalidCommand) as err:
        CreateProduct("", "n", "c", 1)
    assert err.value.details == {
        "field": "product_id",
        "reason": err.value.reason,
        "command": "CreateProduct",
    }


def test_unknown_event_type_is_a_value_error_not_a_domain_error() -> None:
    err = UnknownEventType("order", "Nope")
    assert isinstance(err, ValueError)
    assert str(err) == "aggregate 'order' cannot apply event type 'Nope'"
