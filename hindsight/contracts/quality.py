"""Contract tests on real data: sample events, then report per data product the share that
validates, each quality rule's result, and each read model's freshness against its SLA.

Samples come from Kafka (the latest N messages of each product's topic, read without joining a
consumer group, so sampling never moves anyone's offsets) or from any list of envelopes (the
store, a test). Read-model freshness needs a probe: a function from a read model's name to its
p99 append -> visible lag in seconds, or None where nothing reached it lately; the CLI's
default is `connectors.freshness.SinkFreshness`, fed by the sink workers.

A check that sees nothing must not pass: given what the store holds (`stored`, events per
product) and what it recorded within the freshness window (`appended`), a product with no
sample while the store holds its events is a breach (a stopped relay, a wrong topic prefix),
and a product whose events were appended in the window while none of its read models saw a
change is a freshness breach (a stalled job or sink). One read model with no measurement while
another of the product's did is reported as not measured: not every event reaches every one.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from hindsight.contracts.expressions import ENGINE, RuleError, compile_rule
from hindsight.contracts.metrics import SUPPORTED_METRICS, values_at
from hindsight.contracts.model import Contract, Schema
from hindsight.contracts.validator import Invalid, Validator

FreshnessProbe = Callable[[str], float | None]
NOT_MEASURED = "not measured (no change reached it within the window)"
_UNITS = {"ms": 0.001, "s": 1, "sec": 1, "m": 60, "min": 60, "h": 3600, "d": 86400}


def no_read_models(read_model: str) -> float | None:
    """A probe that measures nothing (samples from a file, unit tests)."""
    return None


@dataclass(frozen=True)
class RuleResult:
    schema: str
    name: str
    dimension: str | None
    severity: str
    checked: int
    failed: int
    passed: bool
    detail: str

    @property
    def breach(self) -> bool:
        return not self.passed and self.severity == "error"


@dataclass(frozen=True)
class FreshnessResult:
    read_model: str
    sla_seconds: float
    lag_seconds: float | None

    @property
    def status(self) -> str:
        if self.lag_seconds is None:
            return NOT_MEASURED
        return "ok" if self.lag_seconds <= self.sla_seconds else "breach"

    @property
    def breach(self) -> bool:
        return self.status == "breach"


@dataclass
class ProductReport:
    domain: str
    sampled: int = 0
    valid: int = 0
    reasons: Counter[str] = field(default_factory=Counter)  # reason kind -> count
    examples: dict[str, str] = field(default_factory=dict)  # reason kind -> first reason
    rules: list[RuleResult] = field(default_factory=list)
    freshness: list[FreshnessResult] = field(default_factory=list)
    required_valid_percent: float = 100.0
    stored: int | None = None  # the product's events in the store (None: not asked)
    appended: int | None = None  # of those, recorded within the freshness window
    required_complete_percent: float = 100.0  # the contract's completeness SLA
    version_gaps: int = 0  # versions missing between an aggregate's first and last in the sample
    on_topic: int | None = None  # records on the product's topic, marks too (None: not asked)

    @property
    def valid_percent(self) -> float | None:
        return 100.0 * self.valid / self.sampled if self.sampled else None

    @property
    def missing(self) -> int:
        """Events known to be absent: holes in the sample's version sequences, and stored
        events beyond what the topic holds (a lower bound: a duplicate, or one of the relay's
        position marks, which are records too, can hide a loss)."""
        short = max(0, (self.stored or 0) - self.on_topic) if self.on_topic is not None else 0
        return self.version_gaps + short

    @property
    def complete_percent(self) -> float | None:
        """Completeness as it says: the share of the events that should be there that are.
        Measured against the store when it was asked, else against the sample's versions."""
        if self.stored:
            expected, present = self.stored, max(0, self.stored - self.missing)
        else:  # the sample alone: its events and the holes between them
            expected, present = self.valid + self.version_gaps, self.valid
        return 100.0 * present / expected if expected else None

    @property
    def breaches(self) -> list[str]:
        out = []
        if self.stored and not self.sampled:
            out.append(
                f"nothing sampled while the store holds {self.stored} of its events "
                "(relay stopped? wrong topic or prefix?)"
            )
        if self.appended and self.freshness and all(f.lag_seconds is None for f in self.freshness):
            out.append(
                f"freshness: {self.appended} events appended within the window, no change "
                "reached any of its read models (job or sinks stalled?)"
            )
        pct = self.valid_percent
        if pct is not None and pct < self.required_valid_percent:
            out.append(f"valid {pct:.2f} % < {self.required_valid_percent:g} %")
        complete = self.complete_percent
        if complete is not None and complete < self.required_complete_percent:
            out.append(
                f"complete {complete:.2f} % < {self.required_complete_percent:g} % "
                f"({self.version_gaps} versions missing in the sample, "
                f"{self.missing - self.version_gaps} stored events not on the topic)"
            )
        out += [f"rule {r.schema}.{r.name}: {r.detail}" for r in self.rules if r.breach]
        out += [
            f"freshness {f.read_model}: lag {f.lag_seconds:.1f} s > {f.sla_seconds:g} s"
            for f in self.freshness
            if f.breach
        ]
        return out

    def to_dict(self) -> dict[str, Any]:
        return {
            "domain": self.domain,
            "sampled": self.sampled,
            "valid": self.valid,
            "valid_percent": self.valid_percent,
            "complete_percent": self.complete_percent,
            "version_gaps": self.version_gaps,
            "on_topic": self.on_topic,
            "reasons": dict(self.reasons),
            "examples": self.examples,
            "rules": [r.__dict__ | {"breach": r.breach} for r in self.rules],
            "freshness": [
                {**f.__dict__, "status": f.status, "breach": f.breach} for f in self.freshness
            ],
            "stored": self.stored,
            "appended": self.appended,
            "breaches": self.breaches,
        }


# -- sampling ----------------------------------------------------------------------------------


def route(
    messages: Iterable[bytes | str | Mapping[str, Any]], contracts: Mapping[str, Contract]
) -> dict[str, list[Any]]:
    """Group envelopes by the data product owning their event type (or aggregate type);
    anything unattributable goes to "-" so it is still counted, never dropped."""
    owner: dict[str, str] = {}
    for c in contracts.values():
        for s in c.events():
            owner[str(s.event_type)] = c.domain
            if s.aggregate_type:
                owner.setdefault(f"aggregate:{s.aggregate_type}", c.domain)
    out: dict[str, list[Any]] = defaultdict(list)
    for m in messages:
        try:
            d = json.loads(m) if isinstance(m, bytes | str) else m
        except ValueError:
            d = None
        domain = "-"
        if isinstance(d, Mapping):
            domain = owner.get(str(d.get("event_type")), "") or owner.get(
                f"aggregate:{d.get('aggregate_type')}", "-"
            )
        out[domain].append(m)
    return dict(out)


# -- evaluation --------------------------------------------------------------------------------


def _seconds(value: Any, unit: str | None) -> float:
    return float(value) * _UNITS.get((unit or "s").lower(), 1)


def _threshold_ok(rule: Mapping[str, Any], failed: int, checked: int) -> tuple[bool, str]:
    measure: float = failed
    if str(rule.get("unit", "")).lower() == "percent":
        measure = 100.0 * failed / checked if checked else 0.0
    ops = {
        "mustBe": lambda x, t: x == t,
        "mustBeLessThan": lambda x, t: x < t,
        "mustBeLessOrEqualTo": lambda x, t: x <= t,
        "mustBeGreaterThan": lambda x, t: x > t,
        "mustBeGreaterOrEqualTo": lambda x, t: x >= t,
    }
    for op, check in ops.items():
        if op in rule:
            return check(measure, rule[op]), f"{measure:g} ({op} {rule[op]})"
    return measure == 0, f"{measure:g} failing (must be 0)"


# Long on purpose: one branch per rule kind, each a few lines, read as the table of what a
# rule can be; a rule kind it does not know fails here rather than being skipped.
def _evaluate_schema_rules(schema: Schema, envelopes: list[dict[str, Any]]) -> list[RuleResult]:
    out: list[RuleResult] = []
    for rule in schema.quality:
        name = str(rule.get("name") or rule.get("implementation") or rule.get("type"))
        if rule.get("type") != "custom" or rule.get("engine") != ENGINE:
            # a rule this cannot run fails as an error: skipped, it would read as kept
            why = f"cannot be evaluated: type {rule.get('type')!r}, engine {rule.get('engine')!r}"
            dim = rule.get("dimension")
            out.append(RuleResult(schema.name, name, dim, "error", 0, 0, False, why))
            continue
        try:
            predicate = compile_rule(str(rule["implementation"]))
        except RuleError as e:
            out.append(
                RuleResult(schema.name, name, rule.get("dimension"), "error", 0, 0, False, str(e))
            )
            continue
        failed = 0
        for env in envelopes:
            try:
                ok = predicate(env)
            except Exception:  # a rule that cannot even be evaluated on this event fails it
                ok = False
            failed += not ok
        passed, detail = _threshold_ok(rule, failed, len(envelopes))
        out.append(
            RuleResult(
                schema.name,
                name,
                rule.get("dimension"),
                str(rule.get("severity", "error")),
                len(envelopes),
                failed,
                passed,
                detail,
            )  # fmt: skip
        )
    for prop in schema.walk():  # nested fields too: `data.tier`, `data.lines[].quantity`
        for rule in prop.quality:
            metric = rule.get("metric")
            values = [v for env in envelopes for v in values_at(env, prop.path)]
            if metric not in SUPPORTED_METRICS:
                why = f"cannot be evaluated: metric {metric!r}"
                name = str(rule.get("name") or f"{prop.path}.{metric}")
                dim = rule.get("dimension")
                out.append(RuleResult(schema.name, name, dim, "error", 0, 0, False, why))
                continue
            if metric == "duplicateValues":
                counts = Counter(v for v in values if v is not None)
                failed = sum(n - 1 for n in counts.values() if n > 1)
            elif metric == "nullValues":
                failed = sum(v is None for v in values)
            elif metric == "invalidValues":
                valid = set((rule.get("arguments") or {}).get("validValues") or ())
                failed = sum(v is not None and v not in valid for v in values)
            passed, detail = _threshold_ok(rule, failed, len(values))
            out.append(
                RuleResult(
                    schema.name,
                    str(rule.get("name") or f"{prop.path}.{metric}"),
                    rule.get("dimension"),
                    str(rule.get("severity", "error")),
                    len(values),
                    failed,
                    passed,
                    detail,
                )  # fmt: skip
            )
    return out


def evaluate(
    contract: Contract,
    messages: Iterable[bytes | str | Mapping[str, Any]],
    validator: Validator,
    probe: FreshnessProbe = no_read_models,
    *,
    stored: int | None = None,
    appended: int | None = None,
    on_topic: int | None = None,
) -> ProductReport:
    """One product's report over its sample (and, when given, what the store held and how
    many records its topic holds). Every event must validate; completeness is the contract's
    SLA on what is missing (see ProductReport.complete_percent)."""
    completeness = next(
        (s.get("value") for s in contract.sla if s.get("property") == "completeness"), 100
    )
    report = ProductReport(
        contract.domain,
        required_complete_percent=float(completeness),
        stored=stored,
        appended=appended,
        on_topic=on_topic,
    )
    versions: dict[tuple[str, str], set[int]] = defaultdict(set)
    by_type: dict[tuple[str, int], list[dict[str, Any]]] = defaultdict(list)
    for m in messages:
        report.sampled += 1
        result = validator(m)
        if isinstance(result, Invalid):
            report.reasons[result.kind] += 1
            report.examples.setdefault(result.kind, str(result))
            continue
        report.valid += 1
        by_type[(result["event_type"], result["schema_version"])].append(result)
        versions[(result["aggregate_type"], result["aggregate_id"])].add(int(result["version"]))
    # the sample starts mid-stream, so only holes between an aggregate's first and last count
    report.version_gaps = sum(max(v) - min(v) + 1 - len(v) for v in versions.values())
    for schema in contract.events():
        sample = by_type.get((str(schema.event_type), int(schema.schema_version or 0)), [])
        report.rules += _evaluate_schema_rules(schema, sample)
    for sla in contract.sla:
        if sla.get("property") != "freshness":
            continue
        name = str(sla.get("element"))
        report.freshness.append(
            FreshnessResult(name, _seconds(sla.get("value"), sla.get("unit")), probe(name))
        )
    return report


def evaluate_all(
    contracts: Mapping[str, Contract],
    samples: Mapping[str, list[Any]],
    validator: Validator,
    probe: FreshnessProbe = no_read_models,
    *,
    stored: Mapping[str, int] | None = None,
    appended: Mapping[str, int] | None = None,
    on_topic: Mapping[str, int] | None = None,
) -> list[ProductReport]:
    """Reports for every product; a sample under "-" (unattributable) is its own report.
    `stored` / `appended`: events per product in the store / within the window (see
    `per_product`); without them nothing is known of what there was to see."""
    reports = [
        evaluate(
            c,
            samples.get(d, []),
            validator,
            probe,
            stored=None if stored is None else stored.get(d, 0),
            appended=None if appended is None else appended.get(d, 0),
            on_topic=None if on_topic is None else on_topic.get(d),
        )
        for d, c in contracts.items()
    ]
    if samples.get("-"):
        stray = ProductReport("-")
        for m in samples["-"]:
            stray.sampled += 1
            r = validator(m)
            if isinstance(r, Invalid):
                stray.reasons[r.kind] += 1
                stray.examples.setdefault(r.kind, str(r))
            else:
                stray.valid += 1
        reports.append(stray)
    return reports


def per_product(counts: Mapping[str, int], contracts: Mapping[str, Contract]) -> dict[str, int]:
    """Events per aggregate type (the store's `event_counts`) -> events per data product, by
    the aggregate types each contract's event schemas declare."""
    owner = {
        str(s.aggregate_type): c.domain
        for c in contracts.values()
        for s in c.events()
        if s.aggregate_type
    }
    out: dict[str, int] = {}
    for aggregate_type, n in counts.items():
        domain = owner.get(aggregate_type)
        if domain is not None:
            out[domain] = out.get(domain, 0) + n
    return out
