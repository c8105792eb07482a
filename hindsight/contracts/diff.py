"""Breaking-change detection between two versions of a contract.

datacontract-cli does the hard part (a structural changelog of two ODCS documents, each entry
graded by its rule set from the consumer's and from the producer's perspective). Hindsight adds
what is its own:

* An event log needs *both* perspectives: a removed field or a changed type breaks consumers,
  while a new required field or a narrowed enum breaks the stored history (events written under
  the old contract no longer validate, and the log is never rewritten). So a change is breaking
  if the tool grades it an error from either side...
* ...except where an append-only event log makes it safe: a new optional field or a new event
  type or read model (the tool grades these as producer-side tightenings, since old data lacks
  them), and a widened enum (reported as a warning: exhaustive consumers must handle the value).
* A breaking change is allowed only with a major version bump (semver), which the tool does not
  check; that decides the exit code.
"""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

REMOVED_FIELD = "removed field"
TYPE_CHANGE = "type change"
NEW_REQUIRED_FIELD = "new required field"
NARROWED_ENUM = "narrowed enum"
REMOVED_SCHEMA = "removed schema"


@dataclass(frozen=True)
class Change:
    kind: str  # one of the constants above, or the tool's rule id for other breaking changes
    path: str  # the tool's changelog path, e.g. schema.OrderPaid.properties.data.properties.x
    message: str

    def __str__(self) -> str:
        return f"{self.kind}: {self.path}: {self.message}"


@dataclass
class DiffResult:
    old_version: str
    new_version: str
    breaking: list[Change] = field(default_factory=list)
    warnings: list[Change] = field(default_factory=list)
    changes: list[str] = field(default_factory=list)  # the tool's changelog, one line each

    @property
    def major_bumped(self) -> bool:
        return _major(self.new_version) > _major(self.old_version)

    @property
    def ok(self) -> bool:
        """A breaking change is fine only with a major version bump."""
        return not self.breaking or self.major_bumped


def _major(version: str) -> int:
    m = re.match(r"^(\d+)\.", version or "")
    return int(m.group(1)) if m else -1


def _lookup(raw: dict[str, Any], path: str) -> dict[str, Any] | None:
    """Find the node a changelog path names (names are list keys in the tool's paths)."""
    node: Any = raw
    for segment in _segments(path):
        if isinstance(node, list):
            node = next((x for x in node if isinstance(x, dict) and x.get("name") == segment), None)
        elif isinstance(node, dict):
            node = node.get(segment)
        else:
            return None
        if node is None:
            return None
    return node if isinstance(node, dict) else None


def _segments(path: str) -> list[str]:
    # Schema names hold no dots in our contracts; property names never do (snake_case policy).
    return path.split(".")


def _classify(entry: Any, new_raw: dict[str, Any]) -> tuple[str, str] | None:
    """(severity, kind) for a tool error entry; None = compatible for an event log."""
    rule, change = entry.rule_id, entry.change_type.value
    if rule == "schema-added-or-removed":
        return ("breaking", REMOVED_SCHEMA) if change == "removed" else None
    if rule == "property-added-or-removed":
        if change == "removed":
            return "breaking", REMOVED_FIELD
        added = _lookup(new_raw, entry.path) or {}
        return ("breaking", NEW_REQUIRED_FIELD) if added.get("required") else None
    if rule == "required-changed":
        return ("breaking", NEW_REQUIRED_FIELD) if entry.new_value == "True" else None
    if rule == "type-changed":
        return "breaking", TYPE_CHANGE
    if rule == "enum-constraint-changed":
        if entry.direction is not None and entry.direction.value == "loosens":
            return "warning", "widened enum"
        return "breaking", NARROWED_ENUM
    return "breaking", rule


def diff_contracts(old_raw: dict[str, Any], new_raw: dict[str, Any]) -> DiffResult:
    """Compare two contract documents (parsed YAML)."""
    from datacontract.data_contract import DataContract
    from datacontract.model.breaking import BreakingChangeLevel
    from open_data_contract_standard.model import OpenDataContractStandard

    old = DataContract(data_contract=OpenDataContractStandard.model_validate(old_raw))
    new = DataContract(data_contract=OpenDataContractStandard.model_validate(new_raw))
    result = DiffResult(str(old_raw.get("version", "")), str(new_raw.get("version", "")))
    seen: set[tuple[str, str]] = set()
    for perspective in ("consumer", "producer"):
        graded = old.breaking(new, perspective=perspective)
        if perspective == "consumer":
            result.changes = [
                f"{e.change_type.value} {e.path}"
                + (f": {e.old_value} -> {e.new_value}" if e.change_type.value == "updated" else "")
                for e in graded.entries
                if e.direction is not None
            ]
        for e in graded.entries:
            if e.level != BreakingChangeLevel.ERROR or (e.path, e.rule_id) in seen:
                continue
            seen.add((e.path, e.rule_id))
            verdict = _classify(e, new_raw)
            if verdict is None:
                continue
            severity, kind = verdict
            change = Change(kind, e.path, f"{e.message} ({perspective} perspective)")
            (result.breaking if severity == "breaking" else result.warnings).append(change)
    return result


def diff_files(old: Path, new: Path) -> DiffResult:
    return diff_contracts(yaml.safe_load(old.read_text()), yaml.safe_load(new.read_text()))


def git_show(rev: str, path: Path, repo: Path) -> str | None:
    """The file at `rev`, or None if it did not exist there (a new contract: nothing to break)."""
    rel = path.resolve().relative_to(repo.resolve())
    proc = subprocess.run(
        ["git", "-C", str(repo), "show", f"{rev}:{rel.as_posix()}"],
        capture_output=True,
        text=True,
        check=False,
    )
    return proc.stdout if proc.returncode == 0 else None


def repo_root(start: Path) -> Path:
    out = subprocess.run(
        ["git", "-C", str(start), "rev-parse", "--show-toplevel"],
        capture_output=True,
        text=True,
        check=True,
    )
    return Path(out.stdout.strip())


def diff_against_git(
    rev: str, paths: list[Path], repo: Path | None = None
) -> dict[Path, DiffResult | None]:
    """Each contract against its version at `rev`; None where it is new since `rev`."""
    repo = repo or repo_root(paths[0].parent if paths else Path.cwd())
    out: dict[Path, DiffResult | None] = {}
    for path in paths:
        before = git_show(rev, path, repo)
        out[path] = (
            None
            if before is None
            else diff_contracts(yaml.safe_load(before), yaml.safe_load(path.read_text()))
        )
    return out


# -- the CI gate: every contract against its last released version -----------------------------

RELEASED_DIR = "released"  # data-products/released/<product>/datacontract.yaml
RETIRED_FILE = "retired.yaml"  # data-products/retired.yaml: products removed on purpose


class NoBaseline(RuntimeError):
    """Nothing to compare with: a gate that compares with nothing would pass anything."""


@dataclass(frozen=True)
class GateEntry:
    product: str
    verdict: str  # "ok", "breaking", "removed", "retired", "unreleased"
    result: DiffResult | None = None

    @property
    def ok(self) -> bool:
        return self.verdict not in ("breaking", "removed")


def retired_products(root: Path) -> dict[str, str]:
    """product -> why it was retired: `<root>/retired.yaml`, `retired: [{product, reason}]`."""
    path = root / RETIRED_FILE
    if not path.is_file():
        return {}
    raw = yaml.safe_load(path.read_text()) or {}
    return {str(r["product"]): str(r.get("reason", "")) for r in raw.get("retired") or []}


def _by_product(root: Path) -> dict[str, Path]:
    return {p.parent.name: p for p in sorted(root.glob("*/datacontract.yaml"))}


def diff_against_released(root: Path) -> list[GateEntry]:
    """Each released product against its current contract. The released copies are the
    versions consumers were promised, so a breaking change is judged against them, however
    many commits ago they were recorded (comparing with the previous commit only lets a
    breaking commit through once any other commit follows it). A released product without a
    current contract is removed: breaking unless `retired.yaml` declares it. A contract never
    released is new: nothing to break yet."""
    released = _by_product(root / RELEASED_DIR)
    if not released:
        raise NoBaseline(
            f"no released contracts under {root / RELEASED_DIR}: record them with "
            "`hindsight contracts release` (the gate never passes by comparing with nothing)"
        )
    current = _by_product(root)
    retired = retired_products(root)
    out: list[GateEntry] = []
    for product, path in released.items():
        if product not in current:
            out.append(GateEntry(product, "retired" if product in retired else "removed"))
            continue
        result = diff_contracts(
            yaml.safe_load(path.read_text()), yaml.safe_load(current[product].read_text())
        )
        out.append(GateEntry(product, "ok" if result.ok else "breaking", result))
    out += [GateEntry(p, "unreleased") for p in current if p not in released]
    return out


def release(root: Path, products: list[str] | None = None) -> list[str]:
    """Record the current contracts (or the named ones) as released; returns what changed."""
    current = _by_product(root)
    names = products or sorted(current)
    unknown = sorted(set(names) - set(current))
    if unknown:
        raise ValueError(f"no contract for {unknown}; known: {sorted(current)}")
    changed = []
    for name in names:
        target = root / RELEASED_DIR / name / "datacontract.yaml"
        text = current[name].read_text()
        if not target.is_file() or target.read_text() != text:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text)
            changed.append(name)
    return changed
