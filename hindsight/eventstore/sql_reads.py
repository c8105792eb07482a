"""The read queries both SQL backends share: the same SQL, only the placeholder differs
(`?` for sqlite3, `%s` for psycopg), so it is written once here. What differs is how a time
is stored (SQLite: integer microseconds; PostgreSQL: timestamptz) and how a snapshot's state
comes back (SQLite: JSON text; PostgreSQL: jsonb, already parsed): `_time_param` and
`_snapshot_from_row` say it per backend."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from hindsight.events import Envelope
from hindsight.eventstore.base import Snapshot

COLUMNS = (
    "event_id, event_type, schema_version, aggregate_type, aggregate_id, version, position, "
    "occurred_at, recorded_at, correlation_id, causation_id, data"
)
MAX_VERSION = 2**62

_SPAN = "select first_position, last_position from hs_idempotency where key = {p}"
_POSITIONS = (
    f"select {COLUMNS} from hs_events where position between {{p}} and {{p}} order by position"
)
_STREAM = (
    f"select {COLUMNS} from hs_events where aggregate_type = {{p}} and aggregate_id = {{p}} "
    "and version >= {p} and version <= {p} order by version"
)
_ALL = f"select {COLUMNS} from hs_events where position >= {{p}} order by position limit {{p}}"
VERSION = (
    "select coalesce(max(version), 0) from hs_events where aggregate_type = {p} "
    "and aggregate_id = {p}"
)
_VERSION_AT = VERSION + " and recorded_at <= {p}"
LAST_POSITION = "select coalesce(max(position), 0) from hs_events"
_COUNTS = "select aggregate_type, count(*) from hs_events{where} group by aggregate_type"
_SNAPSHOT = (
    "select version, state, recorded_at from hs_snapshots where aggregate_type = {p} "
    "and aggregate_id = {p} and snapshot_version = {p} and version <= {p} "
    "order by version desc limit 1"
)


class SqlReads:
    """Mixin for an EventStore whose `_conn()` has DB-API `execute` and whose `_decode` turns
    a row of COLUMNS into an Envelope."""

    placeholder = "?"

    def _conn(self) -> Any:
        raise NotImplementedError

    def _decode(self, row: Any) -> Envelope:
        raise NotImplementedError

    def _sql(self, template: str) -> str:
        return template.replace("{p}", self.placeholder)

    def _rows(self, template: str, params: tuple[Any, ...]) -> list[Envelope]:
        return [self._decode(r) for r in self._conn().execute(self._sql(template), params)]

    def _idempotency_span(self, idempotency_key: str) -> tuple[int, int] | None:
        row = self._conn().execute(self._sql(_SPAN), (idempotency_key,)).fetchone()
        return (row[0], row[1]) if row else None

    def _read_positions(self, first: int, last: int) -> list[Envelope]:
        return self._rows(_POSITIONS, (first, last))

    def _read_stream(
        self, aggregate_type: str, aggregate_id: str, from_version: int, to_version: int | None
    ) -> list[Envelope]:
        last = MAX_VERSION if to_version is None else to_version
        return self._rows(_STREAM, (aggregate_type, aggregate_id, from_version, last))

    def _read_all(self, from_position: int, limit: int) -> list[Envelope]:
        return self._rows(_ALL, (from_position, limit))

    def _time_param(self, t: datetime) -> Any:
        return t

    def _snapshot_from_row(self, key: tuple[str, str, int], row: Any) -> Snapshot:
        (aggregate_type, aggregate_id, snapshot_version), (version, state, at) = key, row
        return Snapshot(aggregate_type, aggregate_id, version, snapshot_version, state, at)

    def _scalar(self, template: str, params: tuple[Any, ...] = ()) -> int:
        row = self._conn().execute(self._sql(template), params).fetchone()
        return int(row[0]) if row else 0

    def stream_version(self, aggregate_type: str, aggregate_id: str) -> int:
        return self._scalar(VERSION, (aggregate_type, aggregate_id))

    def version_at(self, aggregate_type: str, aggregate_id: str, at: datetime) -> int:
        return self._scalar(_VERSION_AT, (aggregate_type, aggregate_id, self._time_param(at)))

    def last_position(self) -> int:
        return self._scalar(LAST_POSITION)

    def event_counts(self, since: datetime | None = None) -> dict[str, int]:
        if since is None:
            sql, params = _COUNTS.format(where=""), ()
        else:
            sql = _COUNTS.format(where=" where recorded_at >= {p}")
            params = (self._time_param(since),)
        rows = self._conn().execute(self._sql(sql), params).fetchall()
        return {str(t): int(n) for t, n in rows}

    def load_snapshot(
        self,
        aggregate_type: str,
        aggregate_id: str,
        snapshot_version: int,
        max_version: int | None = None,
    ) -> Snapshot | None:
        last = MAX_VERSION if max_version is None else max_version
        params = (aggregate_type, aggregate_id, snapshot_version, last)
        row = self._conn().execute(self._sql(_SNAPSHOT), params).fetchone()
        if row is None:
            return None
        return self._snapshot_from_row((aggregate_type, aggregate_id, snapshot_version), row)
