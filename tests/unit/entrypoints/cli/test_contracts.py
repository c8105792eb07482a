from __future__ import annotations

import json
import time
from pathlib import Path

import yaml
from typer.testing import CliRunner

from connectors.freshness import FreshnessLog
from entrypoints.cli.contracts import contracts_app
from tests.unit.hindsight.contracts.scenario import envelopes
from tests.unit.hindsight.contracts.support import (
    MINIMAL_CONTRACT,
    minimal,
    prop,
    schema,
    write_root,
)

runner = CliRunner()


def test_lint_passes_on_the_repository() -> None:
    result = runner.invoke(contracts_app, ["lint", "--no-odcs"])
    assert result.exit_code == 0, result.output
    assert "comply" in result.output


def test_lint_fails_naming_contract_field_and_rule(tmp_path: Path) -> None:
    raw = minimal()
    prop(schema(raw, "CustomerRegistered"), "data", "email")["classification"] = "internal"
    result = runner.invoke(
        contracts_app, ["lint", "--no-odcs", "--root", str(write_root(tmp_path, raw))],
        env={"COLUMNS": "250"},
    )  # fmt: skip
    assert result.exit_code == 1
    assert (
        "classification.always-pii" in result.output
        and "CustomerRegistered.data.email" in result.output
    )


def test_lint_runs_datacontract_lint_too(tmp_path: Path) -> None:
    raw = minimal()
    raw["kind"] = "Contract"  # not ODCS
    result = runner.invoke(contracts_app, ["lint", "--root", str(write_root(tmp_path, raw))])
    assert result.exit_code == 1 and "odcs" in result.output


def test_diff_exit_codes(tmp_path: Path) -> None:
    changed = minimal()
    prop(schema(changed, "CustomerRegistered"), "data", "tier")["logicalType"] = "integer"
    new = tmp_path / "new.yaml"
    new.write_text(yaml.safe_dump(changed))
    result = runner.invoke(contracts_app, ["diff", str(MINIMAL_CONTRACT), str(new)])
    assert result.exit_code == 1 and "type change" in result.output
    same = runner.invoke(contracts_app, ["diff", str(MINIMAL_CONTRACT), str(MINIMAL_CONTRACT)])
    assert same.exit_code == 0
    assert runner.invoke(contracts_app, ["diff"]).exit_code == 2


def test_contract_test_from_envelopes_writes_results(tmp_path: Path) -> None:
    sample = tmp_path / "events.jsonl"
    sample.write_text("\n".join(json.dumps(e) for e in envelopes()) + "\n")
    out = tmp_path / "quality.json"
    lags = ["--freshness-dir", str(tmp_path / "lags")]
    result = runner.invoke(
        contracts_app, ["test", "--envelopes", str(sample), "--results", str(out), *lags]
    )
    assert result.exit_code == 0, result.output
    doc = json.loads(out.read_text())
    assert {p["domain"] for p in doc["products"]} >= {"orders", "customers"}
    with sample.open("a") as f:
        f.write("not json\n")
    assert (
        runner.invoke(
            contracts_app, ["test", "--envelopes", str(sample), "--results", str(out), *lags]
        ).exit_code
        == 1
    )


def test_contract_test_fails_on_a_read_model_slower_than_its_sla(tmp_path: Path) -> None:
    sample = tmp_path / "events.jsonl"
    sample.write_text("\n".join(json.dumps(e) for e in envelopes()) + "\n")
    out = tmp_path / "quality.json"
    lags = FreshnessLog(tmp_path / "lags", "elasticsearch")
    now = time.time()
    for i in range(100):  # p99 of 0.1 .. 10.0 s is 9.9 s: over the catalog's 5 s
        lags.observe(["products"], (i + 1) / 10, now)
    lags.observe(["orders"], 0.8, now)
    lags.save()
    args = ["test", "--envelopes", str(sample), "--results", str(out)]
    result = runner.invoke(contracts_app, [*args, "--freshness-dir", str(tmp_path / "lags")])
    assert result.exit_code == 1, result.output
    by_product = {p["domain"]: p for p in json.loads(out.read_text())["products"]}
    fresh = {f["read_model"]: f for f in by_product["catalog"]["freshness"]}
    assert fresh["products"]["lag_seconds"] == 9.9 and fresh["products"]["breach"]
    orders = {f["read_model"]: f for f in by_product["orders"]["freshness"]}
    assert orders["orders"]["status"] == "ok"
    assert "freshness products" in " ".join(by_product["catalog"]["breaches"])


def test_catalog_without_detail_pages(tmp_path: Path) -> None:
    result = runner.invoke(
        contracts_app,
        [
            "catalog",
            "--no-detail",
            "--output",
            str(tmp_path),
            "--results",
            str(tmp_path / "none.json"),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "hindsight.customers.events" in (tmp_path / "index.html").read_text()


def lagging(read_model: str) -> float | None:
    """A freshness probe for the test below: the orders index is 9 s behind."""
    return 9.0 if read_model == "orders" else None


def test_contract_test_uses_a_pluggable_freshness_probe(tmp_path: Path) -> None:
    sample = tmp_path / "events.jsonl"
    sample.write_text("\n".join(json.dumps(e) for e in envelopes()))
    args = ["test", "--envelopes", str(sample), "--results", str(tmp_path / "q.json")]
    probe = f"{__name__}:lagging"
    result = runner.invoke(contracts_app, [*args, "--probe", probe], env={"COLUMNS": "250"})
    assert result.exit_code == 1
    doc = json.loads((tmp_path / "q.json").read_text())
    orders = next(p for p in doc["products"] if p["domain"] == "orders")
    assert orders["breaches"] == ["freshness orders: lag 9.0 s > 5 s"]
