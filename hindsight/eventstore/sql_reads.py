"""The read queries both SQL backends share: the same SQL, only the placeholder differs
(`?` for sqlite3, `%s` for psycopg), so it is written once here."""

from __future__ import annotations

from typing import Any

from hindsight.events import Envelope

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
