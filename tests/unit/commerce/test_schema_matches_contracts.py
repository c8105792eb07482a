"""The event catalogue and the commerce data contracts say the same thing about every event.

The catalogue is what `decide` is tested against; the contracts are what consumers and the
projection job's validator rely on. Neither is generated from the other, so this test is what
keeps them in step: same event types and versions per domain, same data fields, the same
required fields, and PII exactly where the catalogue has it.
"""

from __future__ import annotations

from commerce.schema import DOMAINS, VERSIONS
from hindsight.contracts.model import default_contracts


def contract_events() -> dict[tuple[str, int], tuple[str, object]]:
    """(event type, version) -> (domain, schema) for every event schema of the contracts."""
    out = {}
    for domain in DOMAINS:
        for schema in default_contracts()[domain].schemas:
            if schema.kind == "event" and schema.event_type and schema.schema_version:
                out[(schema.event_type, schema.schema_version)] = (domain, schema)
    return out


def test_every_catalogued_event_version_is_in_its_domains_contract() -> None:
    contracts = contract_events()
    assert set(VERSIONS) == set(contracts)
    for key, spec in VERSIONS.items():
        assert contracts[key][0] == spec.domain, key


def test_fields_required_and_pii_agree() -> None:
    contracts = contract_events()
    for key, spec in VERSIONS.items():
        schema = contracts[key][1]
        fields = {f.name: f for f in schema.data_fields}  # type: ignore[attr-defined]
        assert set(fields) == {f.name for f in spec.fields}, key
        for f in spec.fields:
            # ODCS `required` means present and not null: a nullable key (PII, which erasure
            # redacts to null) is not required there
            assert fields[f.name].required == (f.required and not f.nullable), (key, f.name)
            assert (fields[f.name].classification == "pii") == f.pii, (key, f.name)
