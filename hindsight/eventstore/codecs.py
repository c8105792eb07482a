"""How a domain's events and states are read back: its upcasters and its snapshot codecs.

Opening a store needs the domain's upcasters (old event versions read as the current ones)
and loading through snapshots needs a codec per state type; both are derived from the
`Domain`, so a read-only process (the relay, a rebuild, the traffic driver) gets them without
going through the write side.
"""

from __future__ import annotations

from typing import Any

from pydantic import TypeAdapter

from hindsight.domain import Domain
from hindsight.eventstore.repository import SnapshotCodec
from hindsight.eventstore.upcasting import Upcasters


def upcasters_for(domain: Domain) -> Upcasters:
    registry = Upcasters()
    for (event_type, from_version), fn in domain.upcasters.items():
        registry.register(event_type, from_version, fn)
    return registry


def json_codecs(domain: Domain) -> dict[str, SnapshotCodec[Any]]:
    """Snapshot codecs from the state types via pydantic: nested dataclasses, enums, tuples."""
    codecs: dict[str, SnapshotCodec[Any]] = {}
    for aggregate_type in domain.aggregates:
        adapter: TypeAdapter[Any] = TypeAdapter(domain.state_type(aggregate_type))
        codecs[aggregate_type] = SnapshotCodec(
            snapshot_version=1,
            to_json=lambda state, a=adapter: a.dump_python(state, mode="json"),
            from_json=lambda data, a=adapter: a.validate_python(data),
        )
    return codecs
