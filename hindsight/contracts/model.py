"""The data contracts as Hindsight reads them: ODCS v3 YAML files, one per data product.

The YAML is the source of truth, owned by each domain team; this module only gives the rest of
Hindsight (linter, validator, redaction, quality tests) a typed view of the parts it relies on,
so none of them re-parses ODCS conventions (customProperties, nested `data`, array `items`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from hindsight.settings import REPO_ROOT, get_settings

DATA_PRODUCTS = REPO_ROOT / "data-products"
CONTRACT_FILE = "datacontract.yaml"
POLICIES_FILE = "policies.yaml"


def custom_properties(node: dict[str, Any] | None) -> dict[str, Any]:
    """ODCS keeps extensions as a list of {property, value}; we want a dict."""
    items = (node or {}).get("customProperties") or []
    return {str(i.get("property")): i.get("value") for i in items if isinstance(i, dict)}


@dataclass(frozen=True)
class Field:
    """One property of a schema, with its nested properties (objects) or item fields (arrays)."""

    path: str  # dotted from the schema root, arrays as `lines[]`: "data.lines[].quantity"
    name: str
    logical_type: str | None
    required: bool
    classification: str | None
    enum: tuple[Any, ...] | None
    options: dict[str, Any]
    properties: tuple[Field, ...] | None  # object fields
    items: tuple[Field, ...] | None  # fields of each object in an array
    pii_allowed_ports: tuple[str, ...] | None  # None = not stated
    sources: tuple[str, ...]  # lineage: "EventType.field" this read-model field is built from
    quality: tuple[dict[str, Any], ...]
    raw: dict[str, Any] = field(repr=False, compare=False)
    # stored sealed under its data subject's key (hindsight.shredding): customProperty
    # `encrypted: true`; the governance lint requires it of every pii field of an event
    encrypted: bool = False

    def walk(self) -> list[Field]:
        """This field and every field nested in it, depth first."""
        out = [self]
        for child in (*(self.properties or ()), *(self.items or ())):
            out += child.walk()
        return out


@dataclass(frozen=True)
class Schema:
    """An ODCS schema object: an event type (version), a read model, or the dead-letter record."""

    name: str
    kind: str | None  # "event" | "readModel" | "deadLetter"
    physical_name: str | None
    physical_type: str | None
    output_port: str | None  # the server name in the same contract
    event_type: str | None
    schema_version: int | None
    aggregate_type: str | None
    deprecated: bool
    properties: tuple[Field, ...]
    quality: tuple[dict[str, Any], ...]
    custom: dict[str, Any]
    raw: dict[str, Any] = field(repr=False, compare=False)

    def prop(self, name: str) -> Field | None:
        return next((p for p in self.properties if p.name == name), None)

    @property
    def erases_subject(self) -> bool:
        """customProperty `erasesSubject: true`: appending this event destroys its data
        subject's key (crypto-shredding, hindsight.shredding)."""
        return self.custom.get("erasesSubject") is True

    @property
    def data_fields(self) -> tuple[Field, ...]:
        data = self.prop("data")
        return data.properties or () if data else ()

    def walk(self) -> list[Field]:
        return [f for p in self.properties for f in p.walk()]


@dataclass(frozen=True)
class Server:
    """An output port: where the product's data can be read."""

    name: str
    type: str | None
    port_type: str  # kafka | elasticsearch | neo4j | ...
    indices: tuple[str, ...]
    labels: tuple[str, ...]
    relationships: tuple[str, ...]
    raw: dict[str, Any] = field(repr=False, compare=False)
    topics: tuple[str, ...] = ()  # every topic the port owns (`topic`, or a `topics` list)
    tables: tuple[str, ...] = ()  # SQL read models (`tables`)


@dataclass(frozen=True)
class Contract:
    path: Path | None
    id: str
    name: str
    domain: str
    version: str
    owner: str | None
    servers: tuple[Server, ...]
    schemas: tuple[Schema, ...]
    sla: tuple[dict[str, Any], ...]
    feeds: tuple[str, ...]  # "readModel.field" owned by another product that this one feeds
    raw: dict[str, Any] = field(repr=False, compare=False)

    def events(self, *, include_history: bool = True) -> list[Schema]:
        return [
            s for s in self.schemas if s.kind == "event" and (include_history or not s.deprecated)
        ]

    def read_models(self) -> list[Schema]:
        return [s for s in self.schemas if s.kind == "readModel"]

    def server(self, name: str) -> Server | None:
        return next((s for s in self.servers if s.name == name), None)

    @property
    def label(self) -> str:
        return f"{self.domain} ({self.path})" if self.path else self.domain


def _field(raw: dict[str, Any], prefix: str) -> Field:
    name = str(raw.get("name", "?"))
    path = f"{prefix}{name}"
    cp = custom_properties(raw)
    allowed = cp.get("piiAllowedPorts")
    enum = raw.get("enum")
    items = raw.get("items") or None
    return Field(
        path=path,
        name=name,
        logical_type=raw.get("logicalType"),
        required=bool(raw.get("required", False)),
        classification=raw.get("classification"),
        enum=tuple(e["value"] if isinstance(e, dict) else e for e in enum) if enum else None,
        options=dict(raw.get("logicalTypeOptions") or {}),
        properties=(
            tuple(_field(p, f"{path}.") for p in raw["properties"])
            if raw.get("properties") is not None
            else None
        ),
        items=(
            tuple(_field(p, f"{path}[].") for p in items.get("properties") or ())
            if isinstance(items, dict)
            else None
        ),
        pii_allowed_ports=tuple(allowed) if isinstance(allowed, list) else None,
        sources=tuple(raw.get("transformSourceObjects") or ()),
        quality=tuple(raw.get("quality") or ()),
        raw=raw,
        encrypted=cp.get("encrypted") is True,
    )


def _schema(raw: dict[str, Any]) -> Schema:
    cp = custom_properties(raw)
    version = cp.get("schemaVersion")
    return Schema(
        name=str(raw.get("name", "?")),
        kind=cp.get("kind"),
        physical_name=raw.get("physicalName"),
        physical_type=raw.get("physicalType"),
        output_port=cp.get("outputPort"),
        event_type=cp.get("eventType"),
        schema_version=int(version) if version is not None else None,
        aggregate_type=cp.get("aggregateType"),
        deprecated=bool(raw.get("deprecated", False)),
        properties=tuple(_field(p, "") for p in raw.get("properties") or ()),
        quality=tuple(raw.get("quality") or ()),
        custom=cp,
        raw=raw,
    )


def _server(raw: dict[str, Any]) -> Server:
    cp = custom_properties(raw)
    topics = tuple(cp.get("topics") or ([cp["topic"]] if cp.get("topic") else []))
    return Server(
        name=str(raw.get("server", "?")),
        type=raw.get("type"),
        port_type=str(cp.get("portType") or raw.get("type") or "?"),
        topics=topics,
        indices=tuple(cp.get("indices") or ()),
        labels=tuple(cp.get("labels") or ()),
        relationships=tuple(cp.get("relationships") or ()),
        raw=raw,
        tables=tuple(cp.get("tables") or ()),
    )


def parse_contract(raw: dict[str, Any], path: Path | None = None) -> Contract:
    team = raw.get("team") or {}
    owners = [m for m in team.get("members") or () if m.get("role") == "owner"]
    feeds = custom_properties(raw).get("feeds") or []
    return Contract(
        path=path,
        id=str(raw.get("id", "")),
        name=str(raw.get("name", "")),
        domain=str(raw.get("domain") or raw.get("name") or ""),
        version=str(raw.get("version", "")),
        owner=team.get("name") or (owners[0].get("username") if owners else None),
        servers=tuple(_server(s) for s in raw.get("servers") or ()),
        schemas=tuple(_schema(s) for s in raw.get("schema") or ()),
        sla=tuple(raw.get("slaProperties") or ()),
        feeds=tuple(feeds),
        raw=raw,
    )


def load_contract(path: Path | str) -> Contract:
    path = Path(path)
    raw = yaml.safe_load(path.read_text())
    if not isinstance(raw, dict):
        raise ValueError(f"{path}: not a YAML mapping")
    return parse_contract(raw, path)


def contract_paths(root: Path = DATA_PRODUCTS) -> list[Path]:
    """`<root>/<domain>/datacontract.yaml`, or `<root>/datacontract.yaml` when `root` is one
    product's own directory (a plug-in domain kept next to its code)."""
    own = root / CONTRACT_FILE
    return [own] if own.is_file() else sorted(root.glob(f"*/{CONTRACT_FILE}"))


def load_all(*roots: Path) -> dict[str, Contract]:
    """Every contract under `roots` (default: data-products/), keyed by domain, in a stable
    order; a domain claimed twice is an error, not a silent override."""
    out: dict[str, Contract] = {}
    for root in roots or (DATA_PRODUCTS,):
        for path in contract_paths(root):
            c = load_contract(path)
            if c.domain in out:
                raise ValueError(
                    f"two contracts for domain {c.domain!r}: {out[c.domain].path}, {path}"
                )
            out[c.domain] = c
    return out


@cache
def contracts_in(roots: tuple[Path, ...]) -> dict[str, Contract]:
    """The contracts under `roots`, loaded once per process (runtime callers share them)."""
    return load_all(*roots)


def default_contracts() -> dict[str, Contract]:
    """The configured contracts (settings.contracts_dirs; by default data-products/)."""

    return contracts_in(tuple(get_settings().contracts_dirs))
