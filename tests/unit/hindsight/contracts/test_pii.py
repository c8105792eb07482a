"""Deny by default: restricted fields reach a read-model port only where their contract says."""

from __future__ import annotations

import pytest

from hindsight.contracts import allowed_event_fields, allowed_fields, redact
from hindsight.contracts.model import parse_contract
from hindsight.contracts.pii import compile_disclosure
from hindsight.contracts.policies import load_policies
from tests.unit.hindsight.contracts.scenario import envelopes
from tests.unit.hindsight.contracts.support import custom, minimal, prop, schema


def test_a_customer_name_is_searchable_but_email_and_street_never_leave_kafka() -> None:
    assert allowed_fields("customers", "elasticsearch") == {
        "customer_id",
        "name",
        "city",
        "country",
    }
    assert allowed_fields("customers", "neo4j") == {"customer_id", "city", "country"}
    assert {"email", "street", "name"} <= allowed_fields("customers", "kafka")


def test_unrestricted_domains_pass_everything() -> None:
    assert allowed_fields("orders", "elasticsearch") == allowed_fields("orders", "kafka")


def test_redact_drops_what_the_port_may_not_see() -> None:
    registered = next(e for e in envelopes() if e["event_type"] == "CustomerRegistered")
    es = redact(registered, "elasticsearch")
    assert set(es["data"]) == {"customer_id", "name", "city", "country"}
    assert es["event_id"] == registered["event_id"]
    assert "email" in registered["data"], "the input is not modified"
    assert set(redact(registered, "neo4j")["data"]) == {"customer_id", "city", "country"}
    moved = next(e for e in envelopes() if e["event_type"] == "CustomerAddressChanged")
    assert "street" not in redact(moved, "elasticsearch")["data"]
    assert allowed_event_fields("CustomerForgotten", "neo4j") == {"customer_id"}


def test_default_is_deny_when_a_contract_states_no_allowance() -> None:
    raw = minimal()
    name = prop(schema(raw, "CustomerRegistered"), "data", "name")
    name["customProperties"] = []
    disclosure = compile_disclosure({"customers": parse_contract(raw)}, load_policies())
    assert "name" not in disclosure.allowed_event_fields("CustomerRegistered", "elasticsearch")
    custom(name, "piiAllowedPorts", ["neo4j"])
    disclosure = compile_disclosure({"customers": parse_contract(raw)}, load_policies())
    assert "name" in disclosure.allowed_event_fields("CustomerRegistered", "neo4j")
    assert "name" not in disclosure.allowed_fields("customers", "elasticsearch")


def test_unknown_event_type_or_port_is_an_error_not_a_pass() -> None:
    with pytest.raises(KeyError):
        allowed_event_fields("OrderTeleported", "elasticsearch")
    with pytest.raises(KeyError):
        allowed_fields("customers", "bigquery")
