"""Contract tests over in-memory samples: validity, quality rules, freshness against the SLA."""

from __future__ import annotations

import copy
import json
import uuid
from typing import Any

from hindsight.contracts.model import default_contracts, parse_contract
from hindsight.contracts.quality import NOT_MEASURED, evaluate, evaluate_all, per_product, route
from hindsight.contracts.validator import Validator
from tests.unit.hindsight.contracts.scenario import envelopes
from tests.unit.hindsight.contracts.support import minimal, prop, schema

CONTRACTS = default_contracts()
VALIDATOR = Validator(CONTRACTS)


def _orders() -> list[dict[str, Any]]:
    return [e for e in envelopes() if e["aggregate_type"] == "order"]


def test_the_real_workload_meets_every_contract() -> None:
    reports = evaluate_all(CONTRACTS, route(envelopes(), CONTRACTS), VALIDATOR)
    assert {r.domain for r in reports} == set(CONTRACTS)
    assert all(r.breaches == [] for r in reports), [r.breaches for r in reports]
    orders = next(r for r in reports if r.domain == "orders")
    assert orders.valid_percent == 100.0
    totals = next(q for q in orders.rules if q.name == "order_total_adds_up")
    assert totals.passed and totals.checked == 3


def test_a_failed_error_rule_is_a_breach() -> None:
    sample = _orders()
    placed = next(e for e in sample if e["event_type"] == "OrderPlaced")
    placed["data"]["total_cents"] += 1
    report = evaluate(CONTRACTS["orders"], sample, VALIDATOR)
    rule = next(q for q in report.rules if q.name == "order_total_adds_up")
    assert (rule.failed, rule.passed, rule.breach) == (1, False, True)
    assert report.breaches == [f"rule OrderPlaced.order_total_adds_up: {rule.detail}"]


def test_duplicates_from_at_least_once_delivery_warn_but_do_not_fail() -> None:
    sample = _orders()
    sample.append(copy.deepcopy(sample[0]))
    report = evaluate(CONTRACTS["orders"], sample, VALIDATOR)
    dup = next(q for q in report.rules if q.name == "event_id_unique" and q.failed)
    assert dup.severity == "warning" and not dup.breach
    assert report.breaches == []


def test_invalid_events_break_completeness_and_are_counted_by_reason() -> None:
    sample: list[Any] = [json.dumps(e).encode() for e in _orders()]
    sample += [b"garbage", json.dumps({**_orders()[0], "version": "1"}).encode()]
    report = evaluate(CONTRACTS["orders"], sample, VALIDATOR)
    assert report.sampled == len(sample) and report.valid == len(sample) - 2
    assert report.reasons == {"not JSON": 1, "wrong type": 1}
    assert report.examples["wrong type"].startswith("wrong type: version:")
    assert report.breaches and report.breaches[0].startswith("valid 81.82 % < 100 %")


def test_freshness_is_measured_by_the_probe_against_the_sla() -> None:
    lags = {"orders": 1.5, "Order": 7.0}
    report = evaluate(CONTRACTS["orders"], _orders(), VALIDATOR, probe=lags.get)
    status = {f.read_model: f.status for f in report.freshness}
    assert status == {
        "orders": "ok",
        "Order": "breach",
        "PLACED": NOT_MEASURED,
        "CONTAINS": NOT_MEASURED,
        "order_list": NOT_MEASURED,
    }
    assert report.breaches == ["freshness Order: lag 7.0 s > 5 s"]


def test_no_read_model_yet_is_reported_not_failed() -> None:
    report = evaluate(CONTRACTS["customers"], [], VALIDATOR)
    assert {f.status for f in report.freshness} == {NOT_MEASURED}
    assert report.breaches == [] and report.valid_percent is None


def test_unattributable_messages_are_kept_and_fail() -> None:
    samples = route([b"garbage", {"event_type": "Nope", "aggregate_type": "x"}], CONTRACTS)
    assert len(samples["-"]) == 2
    stray = evaluate_all(CONTRACTS, samples, VALIDATOR)[-1]
    assert stray.domain == "-" and stray.breaches


def test_nothing_sampled_while_the_store_holds_the_products_events_is_a_breach() -> None:
    report = evaluate(CONTRACTS["customers"], [], VALIDATOR, stored=12)
    assert any("nothing sampled while the store holds 12" in b for b in report.breaches)
    assert evaluate(CONTRACTS["customers"], [], VALIDATOR, stored=0).breaches == []


def test_events_appended_in_the_window_that_reached_no_read_model_is_a_freshness_breach() -> None:
    stalled = evaluate(CONTRACTS["orders"], _orders(), VALIDATOR, stored=9, appended=4)
    assert any("4 events appended within the window" in b for b in stalled.breaches)
    lags = {"orders": 1.5}  # one read model saw changes: the others are only not measured
    flowing = evaluate(
        CONTRACTS["orders"], _orders(), VALIDATOR, probe=lags.get, stored=9, appended=4
    )
    assert flowing.breaches == []
    quiet = evaluate(CONTRACTS["orders"], _orders(), VALIDATOR, stored=9, appended=0)
    assert quiet.breaches == []


def test_store_counts_are_attributed_to_products_by_their_aggregate_types() -> None:
    counts = per_product({"customer": 3, "order": 5, "payment": 2, "unknown": 7}, CONTRACTS)
    assert counts["customers"] == 3 and counts["orders"] + counts.get("billing", 0) == 7
    assert "unknown" not in counts


def test_a_rule_on_a_nested_field_is_evaluated_and_one_it_cannot_run_fails() -> None:
    raw = minimal()
    registered = schema(raw, "CustomerRegistered")
    prop(registered, "data", "tier").setdefault("quality", []).append(
        {
            "name": "tier_known",
            "metric": "invalidValues",
            "mustBe": 0,
            "arguments": {"validValues": ["standard"]},
        }  # fmt: skip
    )
    registered.setdefault("quality", []).append({"name": "ledger", "type": "sql"})
    contract = parse_contract(raw)
    samples = [_registered(i, tier) for i, tier in enumerate(("standard", "gold", "standard"))]
    rules = {r.name: r for r in evaluate(contract, samples, Validator({"c": contract})).rules}
    assert (rules["tier_known"].checked, rules["tier_known"].failed) == (3, 1)
    assert not rules["tier_known"].passed
    assert not rules["ledger"].passed and "cannot be evaluated" in rules["ledger"].detail


def _registered(i: int, tier: str) -> dict[str, Any]:
    """A CustomerRegistered envelope of the minimal contract."""
    at = "2026-01-01T00:00:00Z"
    return {
        "event_id": str(uuid.UUID(int=i + 1)), "event_type": "CustomerRegistered",
        "schema_version": 1,
        "aggregate_type": "customer", "aggregate_id": f"c{i}", "version": 1, "position": i + 1,
        "occurred_at": at, "recorded_at": at, "correlation_id": None, "causation_id": None,
        "data": {"customer_id": f"c{i}", "city": "Lyon", "country": "FR", "tier": tier},
    }  # fmt: skip


def test_completeness_counts_what_is_missing_not_what_is_invalid() -> None:
    events = [e for e in _orders() if e["aggregate_type"] == "order"]
    whole = evaluate(CONTRACTS["orders"], events, VALIDATOR)
    assert whole.version_gaps == 0 and whole.complete_percent == 100.0
    stream = max({e["aggregate_id"] for e in events}, key=lambda a: sum(
        e["aggregate_id"] == a for e in events))  # fmt: skip
    versions = sorted(e["version"] for e in events if e["aggregate_id"] == stream)
    assert len(versions) >= 3, "the scenario has an order with three versions or more"
    middle = versions[1]
    holed = [e for e in events if not (e["aggregate_id"] == stream and e["version"] == middle)]
    report = evaluate(CONTRACTS["orders"], holed, VALIDATOR)
    assert report.version_gaps == 1 and report.valid_percent == 100.0
    assert report.complete_percent is not None and report.complete_percent < 100
    assert any("1 versions missing" in b for b in report.breaches)


def test_stored_events_the_topic_does_not_hold_are_missing() -> None:
    events = _orders()
    report = evaluate(
        CONTRACTS["orders"], events, VALIDATOR, stored=len(events) + 3, on_topic=len(events)
    )
    assert report.missing == 3
    assert any("3 stored events not on the topic" in b for b in report.breaches)
    fine = evaluate(
        CONTRACTS["orders"], events, VALIDATOR, stored=len(events), on_topic=len(events) + 9
    )  # duplicates on the topic are at least once, not missing
    assert fine.missing == 0 and fine.complete_percent == 100.0
