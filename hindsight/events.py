"""The event envelope: what every stored and published event looks like, in any domain.

The store assigns identity and order (event_id, version, position, recorded_at); the domain
supplies only the event type and its data. JSON on the wire, one object per event.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

ENVELOPE_FIELDS = (
    "event_id",
    "event_type",
    "schema_version",
    "aggregate_type",
    "aggregate_id",
    "version",
    "position",
    "occurred_at",
    "recorded_at",
    "correlation_id",
    "causation_id",
    "data",
)


@dataclass(frozen=True)
class NewEvent:
    """An event a command decided on, not yet stored."""

    event_type: str
    data: dict[str, Any]
    schema_version: int = 1
    occurred_at: datetime | None = None  # defaults to the time of append


@dataclass(frozen=True, init=False)
class Envelope:
    """A stored event: immutable, gapless `version` per stream, global `position` in the log.

    Why a hand-written `__init__`: the one a frozen dataclass generates sets every field
    through `object.__setattr__`, 3.5 us for these twelve on Python 3.11 — more than SQLite
    takes to insert the row, and paid for every event appended or read. Writing the instance
    dict once is the same object (equality, hash, repr, `replace`, refused assignment) at 1 us.
    """

    event_id: str
    event_type: str
    schema_version: int
    aggregate_type: str
    aggregate_id: str
    version: int
    position: int
    occurred_at: datetime
    recorded_at: datetime
    correlation_id: str | None
    causation_id: str | None
    data: dict[str, Any] = field(default_factory=dict)

    def __init__(  # noqa: PLR0913 - one parameter per field, as the generated one had
        self,
        event_id: str,
        event_type: str,
        schema_version: int,
        aggregate_type: str,
        aggregate_id: str,
        version: int,
        position: int,
        occurred_at: datetime,
        recorded_at: datetime,
        correlation_id: str | None,
        causation_id: str | None,
        data: dict[str, Any] | None = None,
    ) -> None:
        d = self.__dict__
        d["event_id"] = event_id
        d["event_type"] = event_type
        d["schema_version"] = schema_version
        d["aggregate_type"] = aggregate_type
        d["aggregate_id"] = aggregate_id
        d["version"] = version
        d["position"] = position
        d["occurred_at"] = occurred_at
        d["recorded_at"] = recorded_at
        d["correlation_id"] = correlation_id
        d["causation_id"] = causation_id
        d["data"] = {} if data is None else data

    def to_dict(self) -> dict[str, Any]:
        return {
            "event_id": self.event_id,
            "event_type": self.event_type,
            "schema_version": self.schema_version,
            "aggregate_type": self.aggregate_type,
            "aggregate_id": self.aggregate_id,
            "version": self.version,
            "position": self.position,
            "occurred_at": _iso(self.occurred_at),
            "recorded_at": _iso(self.recorded_at),
            "correlation_id": self.correlation_id,
            "causation_id": self.causation_id,
            "data": self.data,
        }

    def to_json(self) -> bytes:
        return json.dumps(self.to_dict(), separators=(",", ":"), ensure_ascii=False).encode()

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Envelope:
        return cls(
            event_id=str(d["event_id"]),
            event_type=str(d["event_type"]),
            schema_version=int(d["schema_version"]),
            aggregate_type=str(d["aggregate_type"]),
            aggregate_id=str(d["aggregate_id"]),
            version=int(d["version"]),
            position=int(d["position"]),
            occurred_at=parse_time(d["occurred_at"]),
            recorded_at=parse_time(d["recorded_at"]),
            correlation_id=d.get("correlation_id"),
            causation_id=d.get("causation_id"),
            data=dict(d["data"]),
        )

    @classmethod
    def from_json(cls, raw: bytes | str) -> Envelope:
        return cls.from_dict(json.loads(raw))


def new_event_id() -> str:
    return str(uuid.uuid4())


def utcnow() -> datetime:
    return datetime.now(UTC)


def _iso(t: datetime) -> str:
    return t.astimezone(UTC).isoformat().replace("+00:00", "Z")


def record_time_ms(t: datetime) -> int:
    """An event's time on the log, epoch ms: the relay stamps each Kafka record with its
    recorded_at this way, and a replay cuts the log by the same number."""
    return int(t.timestamp() * 1000)


def parse_time(value: str | datetime) -> datetime:
    if isinstance(value, datetime):
        t = value
    else:
        t = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return t if t.tzinfo else t.replace(tzinfo=UTC)
