"""The CI gate compares every contract with its last released version: a breaking change
fails however many commits followed it, a removed contract fails unless declared retired, and
no baseline is an error, never a pass."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from entrypoints.cli.contracts import contracts_app
from hindsight.contracts.diff import NoBaseline, diff_against_released, release
from tests.unit.hindsight.contracts.support import minimal, prop, schema


def write(root: Path, product: str, raw: dict[str, Any]) -> None:
    path = root / product / "datacontract.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(raw, sort_keys=False))


def breaking(raw: dict[str, Any]) -> dict[str, Any]:
    data = prop(schema(raw, "CustomerRegistered"), "data")
    data["properties"] = [p for p in data["properties"] if p["name"] != "tier"]
    return raw


@pytest.fixture
def root(tmp_path: Path) -> Path:
    write(tmp_path, "customers", minimal())
    write(tmp_path, "orders", minimal())
    assert release(tmp_path) == ["customers", "orders"]
    return tmp_path


def verdicts(root: Path) -> dict[str, str]:
    return {e.product: e.verdict for e in diff_against_released(root)}


def test_unchanged_contracts_pass(root: Path) -> None:
    assert verdicts(root) == {"customers": "ok", "orders": "ok"}


def test_a_breaking_change_fails_until_the_major_version_is_bumped(root: Path) -> None:
    changed = breaking(minimal())
    changed["version"] = "1.2.0"
    write(root, "customers", changed)
    assert verdicts(root)["customers"] == "breaking"
    # another compatible edit later changes nothing: the gate still compares with the release
    changed["description"] = {"purpose": "later commit"}
    write(root, "customers", changed)
    assert verdicts(root)["customers"] == "breaking"
    changed["version"] = "2.0.0"
    write(root, "customers", changed)
    assert verdicts(root)["customers"] == "ok"


def test_a_removed_contract_fails_unless_declared_retired(root: Path) -> None:
    (root / "orders" / "datacontract.yaml").unlink()
    assert verdicts(root)["orders"] == "removed"
    assert not all(e.ok for e in diff_against_released(root))
    (root / "retired.yaml").write_text(
        yaml.safe_dump({"retired": [{"product": "orders", "reason": "merged into sales"}]})
    )
    assert verdicts(root)["orders"] == "retired"
    assert all(e.ok for e in diff_against_released(root))


def test_a_renamed_contract_is_a_removal(root: Path) -> None:
    (root / "orders").rename(root / "sales")
    assert verdicts(root) == {"customers": "ok", "orders": "removed", "sales": "unreleased"}


def gate(root: Path) -> Any:
    return CliRunner().invoke(contracts_app, ["diff", "--against-released", "--root", str(root)])


def test_no_baseline_is_an_error(tmp_path: Path) -> None:
    write(tmp_path, "customers", minimal())
    with pytest.raises(NoBaseline):
        diff_against_released(tmp_path)
    result = gate(tmp_path)
    assert result.exit_code == 2 and "no released contracts" in result.output


def test_the_cli_judges_against_the_release_not_the_previous_edit(root: Path) -> None:
    changed = breaking(minimal())
    changed["version"] = "2.0.0"
    write(root, "customers", changed)
    assert gate(root).exit_code == 0  # major bump over the released 1.0.0
    released = CliRunner().invoke(contracts_app, ["release", "customers", "--root", str(root)])
    assert released.exit_code == 0 and "customers" in released.output
    changed["version"] = "2.1.0"
    changed["schema"] = [s for s in changed["schema"] if s["name"] != "Customer"]
    write(root, "customers", changed)  # breaking again against 2.0.0, minor bump only
    result = gate(root)
    assert result.exit_code == 1 and "BREAKING" in result.output
    changed["version"] = "3.0.0"
    write(root, "customers", changed)
    assert gate(root).exit_code == 0
