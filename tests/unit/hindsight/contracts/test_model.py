"""The contracts agree with the domain's own catalogue (commerce/schema.py), so drift between
what the aggregates emit and what the data products promise is caught here."""

from __future__ import annotations

import pytest

from commerce.schema import ENUMS, EVENTS, VERSIONS, EventSpec, FieldSpec
from hindsight.contracts.model import Field, default_contracts, load_all
from hindsight.contracts.policies import load_policies
from hindsight.events import ENVELOPE_FIELDS

CONTRACTS = default_contracts()
BY_TYPE = {(s.event_type, s.schema_version): (c, s) for c in CONTRACTS.values() for s in c.events()}


def test_one_contract_per_domain_plus_the_platform() -> None:
    assert sorted(CONTRACTS) == [
        "billing",
        "catalog",
        "customers",
        "inventory",
        "orders",
        "platform",
    ]
    assert list(load_all()) == list(CONTRACTS)


def test_every_event_type_and_version_has_a_schema_in_its_domain() -> None:
    assert set(BY_TYPE) == set(VERSIONS)
    for key, spec in VERSIONS.items():
        contract, schema = BY_TYPE[key]
        assert contract.domain == spec.domain
        assert schema.aggregate_type == spec.aggregate_type
        assert schema.deprecated == (EVENTS[spec.event_type].schema_version != spec.schema_version)


def _assert_same(spec: FieldSpec, f: Field, where: str) -> None:
    assert f.logical_type == spec.type, where
    # ODCS `required` means "never null": a nullable catalogue field is optional in the contract.
    assert f.required == (spec.required and not spec.nullable), where
    assert f.enum == spec.enum, where
    assert f.options.get("pattern") == spec.pattern, where
    assert f.options.get("minimum") == spec.minimum, where
    assert f.options.get("minItems") == spec.min_items, where
    assert (f.classification == "pii") == spec.pii, where
    if spec.items is None:
        assert f.items is None, where
    else:
        assert f.items is not None, where
        assert [i.name for i in f.items] == [i.name for i in spec.items], where
        for i_spec, i_field in zip(spec.items, f.items, strict=True):
            _assert_same(i_spec, i_field, f"{where}[].{i_spec.name}")


@pytest.mark.parametrize(
    "spec", list(VERSIONS.values()), ids=lambda s: f"{s.event_type}v{s.schema_version}"
)
def test_data_fields_match_the_catalogue(spec: EventSpec) -> None:
    _, schema = BY_TYPE[(spec.event_type, spec.schema_version)]
    assert [f.name for f in schema.data_fields] == [f.name for f in spec.fields]
    for f_spec, f in zip(spec.fields, schema.data_fields, strict=True):
        _assert_same(f_spec, f, f"{spec.event_type}.{f_spec.name}")


def test_envelope_policy_is_the_envelope_the_store_writes() -> None:
    assert tuple(load_policies().envelope) == ENVELOPE_FIELDS


def test_read_models_have_the_agreed_shapes() -> None:
    rms = {s.name: s for c in CONTRACTS.values() for s in c.read_models()}
    fields = {name: [f.path for f in s.walk()] for name, s in rms.items()}
    assert fields["orders"] == [
        "order_id", "customer_id", "status", "total", "lines", "lines[].product_id",
        "lines[].name", "lines[].quantity", "lines[].unit_price", "placed_at", "version",
    ]  # fmt: skip
    assert fields["customers"] == [
        "customer_id",
        "name",
        "city",
        "order_count",
        "lifetime_value",
        "version",
    ]
    assert fields["products"] == [
        "product_id", "name", "category", "price", "units_sold", "revenue", "stock_on_hand",
        "version",
    ]  # fmt: skip
    assert fields["Customer"] == ["id", "lifetime_value", "order_count"]
    assert fields["Order"] == ["id", "status", "total", "version"]
    assert fields["CONTAINS"] == ["quantity", "unit_price"]
    assert fields["Product"] == ["id", "name"] and fields["Category"] == ["name"]
    assert fields["City"] == ["name"]
    assert rms["orders"].prop("status").enum == ENUMS["OrderStatus"]  # type: ignore[union-attr]
    # Money stays integer cents in every read model, as in the events.
    for name, path in [("orders", "total"), ("customers", "lifetime_value"), ("products", "price")]:
        assert rms[name].prop(path).logical_type == "integer"  # type: ignore[union-attr]
