"""What each output port may receive: the API projections use to honour the contracts.

Deny by default: a restricted field (policies.yaml `classification.restricted`, e.g. pii,
quasi-identifier) reaches a read-model port only if its contract lists that port in the
field's `piiAllowedPorts`. The Kafka topic is the domain's own log, not a read model, so it
carries every field. Projections call `redact(envelope, port)` before building a document (or
`allowed_event_fields` once per event type); and because an author can forget to, the platform
checks every output where it leaves the projection (`pipelines/disclosure.py`): a field the
owning team has not released to that port fails the reference projection and is dead-lettered
by the sink worker instead of written.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from hindsight.contracts.model import Contract, default_contracts
from hindsight.contracts.policies import Policies, load_policies

FULL_PORTS = frozenset({"kafka"})  # the log itself: every field, PII included


@dataclass(frozen=True)
class Disclosure:
    """Per (event type, port): the data fields that may pass. Compiled once from the contracts."""

    by_event: Mapping[tuple[str, str], frozenset[str]]  # (event_type, port) -> allowed fields
    by_domain: Mapping[tuple[str, str], frozenset[str]]  # (domain, port) -> allowed fields
    ports: frozenset[str]
    # (domain, port) -> restricted data fields of the domain's events NOT released to the port
    denied: Mapping[tuple[str, str], frozenset[str]] = field(default_factory=dict)

    def denied_fields(self, domain: str, port: str) -> frozenset[str]:
        return self.denied.get((domain, port), frozenset())

    def allowed_event_fields(self, event_type: str, port: str) -> frozenset[str]:
        try:
            return self.by_event[(event_type, port)]
        except KeyError:
            raise KeyError(
                f"no contract covers event type {event_type!r} on port {port!r}"
            ) from None

    def allowed_fields(self, domain: str, port: str) -> frozenset[str]:
        try:
            return self.by_domain[(domain, port)]
        except KeyError:
            raise KeyError(f"no contract covers domain {domain!r} on port {port!r}") from None

    def redact(self, envelope: Mapping[str, Any], port: str) -> dict[str, Any]:
        """A copy of the envelope whose `data` keeps only the fields `port` may receive."""
        allowed = self.allowed_event_fields(str(envelope["event_type"]), port)
        data = envelope.get("data") or {}
        return {**envelope, "data": {k: v for k, v in data.items() if k in allowed}}


def compile_disclosure(contracts: Mapping[str, Contract], policies: Policies) -> Disclosure:
    ports = set(FULL_PORTS) | set(policies.read_model_ports)
    by_event: dict[tuple[str, str], frozenset[str]] = {}
    by_domain: dict[tuple[str, str], frozenset[str]] = {}
    denied: dict[tuple[str, str], frozenset[str]] = {}
    for c in contracts.values():
        domain_all: dict[str, set[str]] = {p: set() for p in ports}
        domain_denied: dict[str, set[str]] = {p: set() for p in ports}
        for s in c.events(include_history=False):
            for port in ports:
                allowed = set()
                for f in s.data_fields:
                    if (
                        port in FULL_PORTS
                        or f.classification not in policies.restricted
                        or port in (f.pii_allowed_ports or ())
                    ):
                        allowed.add(f.name)
                    else:
                        domain_denied[port].add(f.name)
                by_event[(str(s.event_type), port)] = frozenset(allowed)
                domain_all[port] |= allowed
        for port in ports:
            # A name denied in any event of the domain is denied for the domain: the safe side.
            by_domain[(c.domain, port)] = frozenset(domain_all[port] - domain_denied[port])
            denied[(c.domain, port)] = frozenset(domain_denied[port])
    return Disclosure(by_event, by_domain, frozenset(ports), denied)


@cache
def default_disclosure() -> Disclosure:
    return compile_disclosure(default_contracts(), load_policies())


def allowed_fields(domain: str, port: str) -> frozenset[str]:
    """Data fields of `domain`'s events that may reach `port` (kafka | elasticsearch | neo4j)."""
    return default_disclosure().allowed_fields(domain, port)


def allowed_event_fields(event_type: str, port: str) -> frozenset[str]:
    return default_disclosure().allowed_event_fields(event_type, port)


def redact(envelope: Mapping[str, Any], port: str) -> dict[str, Any]:
    """The envelope as `port` may see it: undisclosed data fields removed."""
    return default_disclosure().redact(envelope, port)
