"""Federated governance: the global policies (data-products/policies.yaml) applied to every
contract, plus the cross-checks no single contract can make on its own (port ownership against
the code's registry, lineage into other products' read models).

`datacontract lint` already proves each file is valid ODCS; this linter only adds what is
Hindsight's own. Each violation names the contract, the field and the rule, so CI output tells
the owning team exactly what to fix.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from hindsight.contracts.expressions import ENGINE, RuleError, compile_rule
from hindsight.contracts.metrics import SUPPORTED_METRICS
from hindsight.contracts.model import (
    DATA_PRODUCTS,
    POLICIES_FILE,
    Contract,
    Field,
    Schema,
    custom_properties,
)
from hindsight.contracts.ports import Port


@dataclass(frozen=True, order=True)
class Violation:
    contract: str
    field: str  # "<schema>.<property path>", a server, or "-" for the whole contract
    rule: str
    message: str

    def __str__(self) -> str:
        return f"{self.contract}: {self.field}: [{self.rule}] {self.message}"


@dataclass(frozen=True)
class Policies:
    raw: dict[str, Any]

    @property
    def envelope(self) -> dict[str, dict[str, Any]]:
        return dict(self.raw["envelope"]["fields"])

    @property
    def allowed_classes(self) -> frozenset[str]:
        return frozenset(self.raw["classification"]["allowed"])

    @property
    def restricted(self) -> frozenset[str]:
        return frozenset(self.raw["classification"]["restricted"])

    @property
    def always_pii(self) -> frozenset[str]:
        return frozenset(self.raw["classification"].get("always_pii") or ())

    @property
    def never_in_clear(self) -> dict[str, frozenset[str]]:
        table = self.raw["classification"].get("never_in_clear") or {}
        return {port: frozenset(names) for port, names in table.items()}

    @property
    def servers(self) -> frozenset[str]:
        return frozenset(self.raw["ports"]["servers"])

    @property
    def read_model_ports(self) -> frozenset[str]:
        return frozenset(self.raw["ports"]["read_models"])

    def naming(self, key: str, **subst: Any) -> re.Pattern[str]:
        pattern = self.raw["naming"][key]
        for k, v in subst.items():
            pattern = pattern.replace("{" + k + "}", re.escape(str(v)))
        return re.compile(pattern)


def load_policies(path: Path = DATA_PRODUCTS / POLICIES_FILE) -> Policies:
    return Policies(yaml.safe_load(Path(path).read_text()))


def lint(
    contracts: Mapping[str, Contract],
    policies: Policies,
    ports: Iterable[Port],
    embeddings: Mapping[str, Mapping[str, Any]] | None = None,
) -> list[Violation]:
    """Every policy violation in `contracts` against the `ports` the code writes (its
    read-model plug-in's PORTS) and the `embeddings` its indices carry (index -> field,
    model, dims), sorted; empty = compliant."""
    out: list[Violation] = []
    for contract in contracts.values():
        out += _lint_contract(contract, policies)
    out += _lint_lineage(contracts, policies)
    out += _lint_ports(contracts, frozenset(ports))
    if embeddings is not None:  # None: the caller has no index mappings to hold them to
        out += _lint_embeddings(contracts, embeddings)
    return sorted(set(out))


_EMBEDDING_KEYS = ("field", "model", "dims")


def _lint_embeddings(
    contracts: Mapping[str, Contract], code: Mapping[str, Mapping[str, Any]]
) -> list[Violation]:
    """A vector field is only as good as knowing which model made it: a consumer comparing
    its own query vectors with the index's must embed with the same model, and a changed
    model is a new read model (a rebuild). So the contract owning an index records the model
    of each vector field it serves (its Elasticsearch server's `embeddings`), exactly as the
    code's index mapping does."""
    out: list[Violation] = []
    recorded: dict[str, tuple[str, dict[str, Any]]] = {}
    for c in contracts.values():
        for server in c.servers:
            for entry in custom_properties(server.raw).get("embeddings") or ():
                index = str(entry.get("index", ""))
                recorded[index] = (c.domain, {k: entry.get(k) for k in _EMBEDDING_KEYS})
                if index not in server.indices:
                    out.append(Violation(c.domain, f"embeddings.{index}", "embeddings.index",
                                         f"the server serves no index {index!r}"))  # fmt: skip
    for index, meta in code.items():
        want = {k: meta.get(k) for k in _EMBEDDING_KEYS}
        if index not in recorded:
            out.append(Violation("-", f"elasticsearch:{index}", "embeddings.unrecorded",
                                 f"the index carries vectors of {want}; no contract records "
                                 "its model"))  # fmt: skip
        elif recorded[index][1] != want:
            domain, have = recorded[index]
            message = f"the contract records {have}, the index mapping {want}"
            out.append(Violation(domain, f"embeddings.{index}", "embeddings.model", message))
    for index, (domain, _) in recorded.items():
        if index not in code:
            out.append(Violation(domain, f"embeddings.{index}", "embeddings.not-in-code",
                                 "the code's index carries no vectors"))  # fmt: skip
    return out


# -- one contract ------------------------------------------------------------------------------


def _lint_contract(c: Contract, p: Policies) -> list[Violation]:
    out: list[Violation] = []

    def v(where: str, rule: str, message: str) -> None:
        out.append(Violation(c.domain, where, rule, message))

    if not c.owner:
        v("-", "owner", "team.name (or a team member with role owner) is required")
    description = c.raw.get("description") or {}
    for part in p.raw["required"]["description"]:
        if not str(description.get(part) or "").strip():
            v("-", "description", f"description.{part} is required")
    if not re.fullmatch(p.raw["required"]["version"], c.version):
        v("-", "version", f"version {c.version!r} is not semver (MAJOR.MINOR.PATCH)")
    if not p.naming("contract_id", domain=c.domain).fullmatch(c.id):
        v("-", "naming.contract-id", f"id {c.id!r} must be hindsight-{c.domain}")

    for server in c.servers:
        if server.name not in p.servers:
            v(server.name, "naming.server", f"server name must be one of {sorted(p.servers)}")
        if server.port_type != server.name:
            v(server.name, "naming.server", f"server {server.name!r} has type {server.port_type!r}")
        if server.port_type == "kafka" and not server.topics:
            v(server.name, "naming.topic", f"name its topic: hindsight.{c.domain}.events")
        for topic in server.topics if server.port_type == "kafka" else ():
            if not p.naming("topic", domain=c.domain).fullmatch(topic):
                expected = f"hindsight.{c.domain}.events"
                v(server.name, "naming.topic", f"topic {topic!r} must be {expected}")
        for index in server.indices:
            if not p.naming("elasticsearch_index").fullmatch(index):
                v(server.name, "naming.index", f"index {index!r} must be lowercase snake_case")
        for label in server.labels:
            if not p.naming("neo4j_label").fullmatch(label):
                v(server.name, "naming.label", f"label {label!r} must be PascalCase")
        for rel in server.relationships:
            if not p.naming("neo4j_relationship").fullmatch(rel):
                v(server.name, "naming.relationship", f"relationship {rel!r} must be UPPER_SNAKE")
        for table in server.tables:
            if not p.naming("postgres_table").fullmatch(table):
                v(server.name, "naming.table", f"table {table!r} must be lowercase snake_case")

    for schema in c.schemas:
        out += _lint_schema(c, schema, p)
    out += _lint_sla(c, p)
    return out


Say = Callable[[str, str, str], None]  # (where, rule, message)


def _lint_schema(c: Contract, s: Schema, p: Policies) -> list[Violation]:
    out: list[Violation] = []

    def v(where: str, rule: str, message: str) -> None:
        out.append(Violation(c.domain, where, rule, message))

    _lint_schema_port(c, s, v)
    if s.kind == "event":
        _lint_event_schema(s, p, v)
    _lint_sealing(s, v)
    for f in s.walk():
        _lint_field(c, s, f, p, v)
        for rule in f.quality:
            out += _lint_property_quality(c, f"{s.name}.{f.path}", rule)
    for rule in s.quality:
        out += _lint_quality(c, s.name, rule)
    return out


def _lint_schema_port(c: Contract, s: Schema, v: Say) -> None:
    """The schema's physical name is a port its contract's server lists."""
    server = c.server(s.output_port or "")
    if server is None:
        v(
            s.name,
            "ports.undeclared",
            f"outputPort {s.output_port!r} is not a server of the contract",
        )
    elif s.kind == "readModel":
        names = {"index": server.indices, "node": server.labels, "table": server.tables}.get(
            s.physical_type or "", server.relationships
        )
        if s.physical_name not in names:
            v(
                s.name,
                "ports.undeclared",
                f"{s.physical_type} {s.physical_name!r} is not listed by server {server.name!r}",
            )
    elif s.physical_name not in server.topics:
        v(
            s.name,
            "ports.undeclared",
            f"physicalName {s.physical_name!r} is not a topic of server {server.name!r}",
        )


def _lint_event_schema(s: Schema, p: Policies, v: Say) -> None:
    """An event schema: named for its event type (or as a superseded version), a schema
    version, exactly the envelope fields."""
    et = s.event_type or ""
    if not p.naming("event_type").fullmatch(et):
        v(s.name, "naming.event-type", f"event type {et!r} must be PascalCase (NounVerbed)")
    expected = et if not s.deprecated else None
    if s.deprecated:
        pattern = p.naming(
            "historical_event_schema", event_type=et, schema_version=s.schema_version
        )
        if not pattern.fullmatch(s.name):
            v(
                s.name,
                "naming.event-type",
                f"a superseded version is named {et}V{s.schema_version}",
            )
    elif s.name != expected:
        v(s.name, "naming.event-type", f"schema name must equal its eventType {et!r}")
    if s.schema_version is None or s.schema_version < 1:
        v(s.name, "envelope", "customProperties.schemaVersion (>= 1) is required")
    for name, spec in p.envelope.items():
        f = s.prop(name)
        if f is None:
            v(f"{s.name}.{name}", "envelope", "envelope field missing")
            continue
        if f.logical_type != spec["logicalType"]:
            v(
                f"{s.name}.{name}",
                "envelope",
                f"must be {spec['logicalType']}, not {f.logical_type}",
            )
        if f.required != spec["required"]:
            v(f"{s.name}.{name}", "envelope", f"required must be {spec['required']}")
    extra = [f.name for f in s.properties if f.name not in p.envelope]
    for name in extra:
        v(f"{s.name}.{name}", "envelope", "events carry only the envelope; put it under data")


def _lint_sealing(s: Schema, v: Say) -> None:
    """Crypto-shredding (hindsight.shredding): personal data in an event is stored sealed
    under its subject's key, or an erasure could never reach the copies on the log. So every
    pii field of an event is `encrypted`; only fields of `data` can be (where the store seals
    them); `erasesSubject` is an event's."""
    top = {f.path for f in s.data_fields}
    for f in s.walk():
        where = f"{s.name}.{f.path}"
        if s.kind == "event" and f.classification == "pii" and not f.encrypted:
            v(where, "pii.encrypted", f"{f.name!r} is pii in an event: mark it `encrypted: true`")
        if f.encrypted and (s.kind != "event" or f.path not in top):
            v(where, "pii.encrypted", "only a field of an event's data can be encrypted")
    if s.erases_subject and s.kind != "event":
        v(s.name, "pii.erasure", "erasesSubject is a property of an event")


def _lint_field(c: Contract, s: Schema, f: Field, p: Policies, v: Say) -> None:
    """One field: snake_case, classified, PII only where the policies allow it."""
    where = f"{s.name}.{f.path}"
    if not p.naming("field").fullmatch(f.name):
        v(where, "naming.field", f"field {f.name!r} must be snake_case")
    if f.classification is None:
        v(where, "classification.missing", "every field states its classification")
    elif f.classification not in p.allowed_classes:
        v(
            where,
            "classification.unknown",
            f"{f.classification!r} not in {sorted(p.allowed_classes)}",
        )
    if f.name in p.always_pii and f.classification != "pii":
        v(where, "classification.always-pii", f"{f.name!r} is personal data: classify it pii")
    for port in f.pii_allowed_ports or ():
        if port not in p.read_model_ports or c.server(port) is None:
            v(
                where,
                "pii.allowance-port",
                f"piiAllowedPorts names {port!r}, not a read-model server of this contract",
            )
        if f.name in p.never_in_clear.get(port, ()):
            v(where, "pii.never-in-clear", f"{f.name!r} may never reach {port} in clear")
    if f.pii_allowed_ports and f.classification not in p.restricted:
        v(where, "pii.allowance-port", "piiAllowedPorts on an unrestricted field")


def _lint_property_quality(c: Contract, where: str, rule: dict[str, Any]) -> list[Violation]:
    """A property's rule is one of the library metrics `contracts test` computes: any other
    would be skipped by it, and a rule nobody evaluates must not look like a guarantee."""
    metric = rule.get("metric")
    if metric in SUPPORTED_METRICS:
        return []
    return [
        Violation(
            c.domain,
            where,
            "quality.unsupported",
            f"{rule.get('name') or metric or rule.get('type')}: metric {metric!r} cannot be "
            f"evaluated (supported: {', '.join(SUPPORTED_METRICS)})",
        )
    ]


def _lint_quality(c: Contract, where: str, rule: dict[str, Any]) -> list[Violation]:
    if rule.get("type") != "custom" or rule.get("engine") != ENGINE:
        return [
            Violation(
                c.domain,
                where,
                "quality.unsupported",
                f"{rule.get('name') or rule.get('type')}: a {rule.get('type')!r} rule "
                f"(engine {rule.get('engine')!r}) cannot be evaluated; `contracts test` runs "
                f"type 'custom' rules of engine {ENGINE!r}",
            )
        ]
    try:
        compile_rule(str(rule.get("implementation", "")))
    except RuleError as e:
        return [Violation(c.domain, where, "quality.expression", f"{rule.get('name')}: {e}")]
    return []


def _lint_sla(c: Contract, p: Policies) -> list[Violation]:
    out: list[Violation] = []
    fresh = {str(s.get("element")) for s in c.sla if s.get("property") == "freshness"}
    if p.raw["required"].get("read_model_freshness"):
        for rm in c.read_models():
            if rm.name not in fresh:
                out.append(
                    Violation(c.domain, rm.name, "sla.freshness", "read model has no freshness SLA")
                )
    want = p.raw["required"].get("completeness_percent")
    if want is not None and not any(
        s.get("property") == "completeness" and s.get("value") == want for s in c.sla
    ):
        out.append(
            Violation(c.domain, "-", "sla.completeness", f"completeness {want} percent is required")
        )
    return out


# -- across contracts ---------------------------------------------------------------------------


# Long on purpose: two passes over every contract (index the restricted sources, then follow
# each read-model field's lineage to them) that share the index they build.
def _lint_lineage(contracts: Mapping[str, Contract], p: Policies) -> list[Violation]:
    """Restricted data reaches a read model only where its owning contract allows that port."""
    out: list[Violation] = []
    sources: dict[str, tuple[Contract, Field]] = {}
    seen_events: dict[tuple[str, int | None], str] = {}
    for c in contracts.values():
        for s in c.events():
            key = (s.event_type or s.name, s.schema_version)
            if key in seen_events and seen_events[key] != c.domain:
                out.append(
                    Violation(
                        c.domain,
                        s.name,
                        "ports.multiple-owners",
                        f"event type also owned by {seen_events[key]}",
                    )
                )
            seen_events[key] = c.domain
            if s.deprecated:
                continue
            for f in s.data_fields:
                sources[f"{s.event_type}.{f.name}"] = (c, f)
    read_fields: set[str] = set()
    for c in contracts.values():
        for rm in c.read_models():
            for f in rm.walk():
                read_fields.add(f"{rm.name}.{f.path.replace('[]', '')}")
                where = f"{rm.name}.{f.path}"
                restricted_sources = []
                for ref in f.sources:
                    if ref not in sources:
                        out.append(
                            Violation(
                                c.domain,
                                where,
                                "lineage.unknown-source",
                                f"transformSourceObjects names {ref!r}, no such event field",
                            )
                        )
                        continue
                    owner, src = sources[ref]
                    if src.classification in p.restricted:
                        restricted_sources.append((ref, owner, src))
                for ref, owner, src in restricted_sources:
                    if f.classification not in p.restricted:
                        out.append(
                            Violation(
                                c.domain,
                                where,
                                "pii.unclassified-in-read-model",
                                f"built from {src.classification} {ref} "
                                f"but classified {f.classification!r}",
                            )
                        )
                    if rm.output_port not in (src.pii_allowed_ports or ()):
                        out.append(
                            Violation(
                                owner.domain,
                                f"{ref.split('.')[0]}.data.{src.name}",
                                "pii.not-allowed",
                                f"reaches {rm.output_port} via {c.domain}:{where} "
                                f"but piiAllowedPorts does not list {rm.output_port!r}",
                            )
                        )
                if f.classification in p.restricted and not restricted_sources:
                    out.append(
                        Violation(
                            c.domain,
                            where,
                            "pii.not-allowed",
                            f"{f.classification} read-model field without a restricted "
                            f"source allowing {rm.output_port}",
                        )
                    )
    for c in contracts.values():
        for ref in c.feeds:
            if ref not in read_fields:
                out.append(
                    Violation(
                        c.domain,
                        "customProperties.feeds",
                        "lineage.unknown-feed",
                        f"feeds {ref!r}, no such read-model field",
                    )
                )
    return out


def _contract_ports(c: Contract) -> set[Port]:
    out: set[Port] = set()
    for s in c.servers:
        out |= {Port("kafka", t) for t in s.topics}
        out |= {Port("elasticsearch", i) for i in s.indices}
        out |= {Port("neo4j-label", x) for x in s.labels}
        out |= {Port("neo4j-relationship", x) for x in s.relationships}
        out |= {Port("postgres-table", x) for x in s.tables}
    return out


def _lint_ports(contracts: Mapping[str, Contract], code: frozenset[Port]) -> list[Violation]:
    out: list[Violation] = []
    owners: dict[Port, list[str]] = defaultdict(list)
    for c in contracts.values():
        for port in _contract_ports(c):
            owners[port].append(c.domain)
            if port not in code:
                out.append(
                    Violation(
                        c.domain,
                        str(port),
                        "ports.not-in-code",
                        "no sink writes this port (hindsight.contracts.ports)",
                    )
                )
    for port in code:
        if not owners.get(port):
            out.append(
                Violation(
                    "-",
                    str(port),
                    "ports.unowned",
                    "the code writes this port but no contract owns it",
                )
            )
        elif len(owners[port]) > 1:
            for domain in owners[port]:
                out.append(
                    Violation(
                        domain,
                        str(port),
                        "ports.multiple-owners",
                        f"also owned by {', '.join(d for d in owners[port] if d != domain)}",
                    )
                )
    return out
