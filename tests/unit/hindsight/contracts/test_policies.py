# ruff: noqa: E501 - case tables keep one case per line, so each reads as a sentence
"""Each global policy, caught on a fixture that breaks exactly it (and nothing else)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from commerce.read.ports import PORTS as COMMERCE_PORTS
from hindsight.contracts.model import default_contracts, load_all, parse_contract
from hindsight.contracts.policies import Violation, lint, load_policies
from hindsight.contracts.ports import Port
from hindsight.settings import Settings
from pipelines.read_models import read_models
from tests.unit.hindsight.contracts.support import custom, minimal, prop, schema

POLICIES = load_policies()
PORTS = {
    Port("kafka", "hindsight.customers.events"),
    Port("elasticsearch", "customers"),
    Port("neo4j-label", "Customer"),
}


def _lint(*raws: dict[str, Any], ports: set[Port] = PORTS) -> list[Violation]:
    contracts = {r["domain"] + str(i): parse_contract(r) for i, r in enumerate(raws)}
    return lint(contracts, POLICIES, ports)


def test_the_repository_contracts_comply() -> None:
    assert lint(default_contracts(), POLICIES, COMMERCE_PORTS) == []


def test_the_minimal_fixture_complies() -> None:
    assert _lint(minimal()) == []


def _registered(raw: dict[str, Any]) -> dict[str, Any]:
    return schema(raw, "CustomerRegistered")


def _drop(node: dict[str, Any], name: str) -> None:
    node["properties"] = [p for p in node["properties"] if p["name"] != name]


Mutation = Callable[[dict[str, Any]], None]
CASES: list[tuple[str, str, Mutation]] = [
    ("owner", "-", lambda r: r.pop("team")),
    ("description", "-", lambda r: r["description"].pop("limitations")),
    ("version", "-", lambda r: r.__setitem__("version", "1.0")),
    ("naming.contract-id", "-", lambda r: r.__setitem__("id", "customers")),
    ("naming.server", "es", lambda r: r["servers"][1].__setitem__("server", "es")),
    ("naming.topic", "kafka", lambda r: custom(r["servers"][0], "topic", "customers")),
    ("naming.index", "elasticsearch", lambda r: custom(r["servers"][1], "indices", ["Customers"])),
    ("naming.label", "neo4j", lambda r: custom(r["servers"][2], "labels", ["customer"])),
    ("naming.relationship", "neo4j", lambda r: custom(r["servers"][2], "relationships", ["livesIn"])),
    ("naming.event-type", "Registered", lambda r: (
        custom(_registered(r), "eventType", "Registered"), _registered(r).__setitem__("name", "Registered"))),
    ("naming.field", "CustomerRegistered.data.Tier", lambda r: prop(_registered(r), "data", "tier").__setitem__("name", "Tier")),
    ("envelope", "CustomerRegistered.occurred_at", lambda r: _drop(_registered(r), "occurred_at")),
    ("envelope", "CustomerRegistered.version", lambda r: prop(_registered(r), "version").__setitem__("logicalType", "string")),
    ("envelope", "CustomerRegistered.tier", lambda r: _registered(r)["properties"].append(
        {"name": "tier", "logicalType": "string", "classification": "internal"})),
    ("classification.missing", "CustomerRegistered.data.tier", lambda r: prop(_registered(r), "data", "tier").pop("classification")),
    ("classification.unknown", "CustomerRegistered.data.tier", lambda r: prop(_registered(r), "data", "tier").__setitem__("classification", "secret")),
    ("classification.always-pii", "CustomerRegistered.data.email", lambda r: prop(_registered(r), "data", "email").__setitem__("classification", "internal")),
    # Personal data in an event not sealed: an erasure could never reach its copies on the log.
    ("pii.encrypted", "CustomerRegistered.data.email", lambda r: custom(prop(_registered(r), "data", "email"), "encrypted", False)),
    ("pii.encrypted", "customers.name", lambda r: custom(prop(schema(r, "customers"), "name"), "encrypted", True)),
    ("pii.never-in-clear", "CustomerRegistered.data.email", lambda r: custom(prop(_registered(r), "data", "email"), "piiAllowedPorts", ["elasticsearch"])),
    ("pii.allowance-port", "CustomerRegistered.data.name", lambda r: custom(prop(_registered(r), "data", "name"), "piiAllowedPorts", ["elasticsearch", "bigquery"])),
    # A pii field reaching a read model its contract does not allow: name into the graph.
    ("pii.not-allowed", "CustomerRegistered.data.name", lambda r: prop(schema(r, "Customer"))["properties"].append(
        {"name": "name", "logicalType": "string", "classification": "pii", "transformSourceObjects": ["CustomerRegistered.name"]})),
    # Laundering: a read-model field built from pii but classified as if it were not.
    ("pii.unclassified-in-read-model", "customers.name", lambda r: prop(schema(r, "customers"), "name").__setitem__("classification", "internal")),
    ("lineage.unknown-source", "customers.city", lambda r: prop(schema(r, "customers"), "city").__setitem__("transformSourceObjects", ["CustomerMoved.city"])),
    ("lineage.unknown-feed", "customProperties.feeds", lambda r: custom(r, "feeds", ["customers.shoe_size"])),
    ("ports.undeclared", "customers", lambda r: custom(r["servers"][1], "indices", ["people"])),
    ("ports.not-in-code", "neo4j-label:City", lambda r: custom(r["servers"][2], "labels", ["Customer", "City"])),
    ("sla.freshness", "Customer", lambda r: r.__setitem__("slaProperties", [s for s in r["slaProperties"] if s["element"] != "Customer"])),
    ("sla.completeness", "-", lambda r: r.__setitem__("slaProperties", [s for s in r["slaProperties"] if s["property"] != "completeness"])),
    ("quality.expression", "CustomerRegistered", lambda r: _registered(r).__setitem__("quality", [
        {"name": "sneaky", "type": "custom", "engine": "hindsight", "implementation": "data.__class__"}])),
]  # fmt: skip


@pytest.mark.parametrize(("rule", "field", "mutate"), CASES, ids=[f"{c[0]}:{c[1]}" for c in CASES])
def test_each_rule_is_caught_and_named(rule: str, field: str, mutate: Mutation) -> None:
    raw = minimal()
    mutate(raw)
    violations = _lint(raw)
    assert any(v.rule == rule and v.field.endswith(field) for v in violations), violations
    assert all(v.contract == "customers" for v in violations if v.rule == rule)


def test_a_port_the_code_writes_but_no_contract_owns() -> None:
    violations = _lint(minimal(), ports=PORTS | {Port("elasticsearch", "audit")})
    assert [(v.field, v.rule) for v in violations] == [("elasticsearch:audit", "ports.unowned")]


def test_a_port_two_contracts_claim() -> None:
    other = minimal()
    other["domain"] = other["name"] = "crm"
    other["id"] = "hindsight-crm"
    other["schema"] = []
    other["servers"] = [other["servers"][1]]  # claims the customers index too
    other["slaProperties"] = [s for s in other["slaProperties"] if s["property"] == "completeness"]
    violations = _lint(minimal(), other)
    owners = {v.contract for v in violations if v.rule == "ports.multiple-owners"}
    assert owners == {"customers", "crm"}


def test_violations_print_contract_field_and_rule() -> None:
    raw = minimal()
    prop(_registered(raw), "data", "email")["classification"] = "internal"
    text = [str(v) for v in _lint(raw)]
    assert "customers: CustomerRegistered.data.email: [classification.always-pii]" in text[0]


def test_lint_reads_contracts_from_a_directory(tmp_path: Path) -> None:
    from tests.unit.hindsight.contracts.support import write_root

    raw = minimal()
    raw["version"] = "one"
    contracts = load_all(write_root(tmp_path, raw))
    assert [v.rule for v in lint(contracts, POLICIES, PORTS)] == ["version"]


def test_a_rule_the_contract_test_cannot_run_is_refused_by_name() -> None:
    raw = minimal()
    _registered(raw).setdefault("quality", []).append(
        {"name": "orders_match_ledger", "type": "sql", "query": "select 1", "severity": "error"}
    )
    prop(_registered(raw), "data", "tier").setdefault("quality", []).append(
        {"name": "tier_entropy", "metric": "entropy", "mustBeGreaterThan": 1}
    )
    found = {(x.rule, x.message.split(":")[0]) for x in _lint(raw)}
    assert ("quality.unsupported", "orders_match_ledger") in found
    assert ("quality.unsupported", "tier_entropy") in found


_VECTORS = {"field": "embedding", "model": "m/1", "dims": 8}


def _embedding_violations(recorded: dict[str, Any] | None, code: dict[str, Any]) -> list[str]:
    raw = minimal()
    if recorded is not None:
        custom(raw["servers"][1], "embeddings", [recorded])
    contracts = {"customers": parse_contract(raw)}
    return [v.rule for v in lint(contracts, POLICIES, PORTS, code)]


def test_the_contract_records_the_model_of_each_vector_field_the_code_writes() -> None:
    recorded = {"index": "customers", **_VECTORS}
    assert _embedding_violations(recorded, {"customers": _VECTORS}) == []
    assert _embedding_violations(None, {"customers": _VECTORS}) == ["embeddings.unrecorded"]
    other_model = {**_VECTORS, "model": "m/2"}
    assert _embedding_violations(recorded, {"customers": other_model}) == ["embeddings.model"]
    assert _embedding_violations(recorded, {}) == ["embeddings.not-in-code"]
    elsewhere = {"index": "audit", **_VECTORS}
    assert "embeddings.index" in _embedding_violations(elsewhere, {"audit": _VECTORS})


def test_the_catalog_contract_records_the_model_the_product_index_embeds_with() -> None:
    code = read_models(Settings().read_models)
    assert code.embeddings  # the products index carries vectors
    assert lint(default_contracts(), POLICIES, code.ports, code.embeddings) == []
