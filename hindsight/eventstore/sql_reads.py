"""The read queries both SQL backends share: the same SQL, only the placeholder differs
(`?` for sqlite3, `%s` for psycopg), so it is written once here. What differs is how a time
is stored (SQLite: integer microseconds; PostgreSQL: timestamptz) and how a snapshot's state
comes back (SQLite: JSON text; PostgreSQL: jsonb, already parsed): `_time_param` and
`_snapshot_from_row` say it per backend."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from hindsight.events import Envelope, utcnow
from hindsight.eventstore.base import Snapshot
from hindsight.shredding import key_rows, needs_sealing, new_key, seal_data, subject_of

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


_KEYS = "select subject, key from hs_subject_keys where subject in ({marks})"
_NEW_KEY = (
    "insert into hs_subject_keys (subject, key, created_at) values ({p}, {p}, {p}) "
    "on conflict (subject) do nothing"
)
_KEY = "select key from hs_subject_keys where subject = {p}"
_ERASE = (
    "insert into hs_subject_keys (subject, key, created_at, erased_at) "
    "values ({p}, null, {p}, {p}) on conflict (subject) do update set key = null, "
    "erased_at = excluded.erased_at"
)
_KEYS_PER_QUERY = 500


def read_keys(conn: Any, placeholder: str, subjects: Iterable[str]) -> dict[str, bytes | None]:
    """The keys of the subjects the store has a row for (None: erased), on any DB-API
    connection to it: the store's own, or a read-only one (the projection job's readers)."""
    wanted = sorted(set(subjects))
    out: dict[str, bytes | None] = {}
    for i in range(0, len(wanted), _KEYS_PER_QUERY):
        chunk = wanted[i : i + _KEYS_PER_QUERY]
        sql = _KEYS.format(marks=", ".join([placeholder] * len(chunk)))
        out.update(key_rows(conn.execute(sql, tuple(chunk)).fetchall()))
    return out


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

    def _load_snapshot(
        self,
        aggregate_type: str,
        aggregate_id: str,
        snapshot_version: int,
        max_version: int | None,
    ) -> Snapshot | None:
        last = MAX_VERSION if max_version is None else max_version
        params = (aggregate_type, aggregate_id, snapshot_version, last)
        row = self._conn().execute(self._sql(_SNAPSHOT), params).fetchone()
        if row is None:
            return None
        return self._snapshot_from_row((aggregate_type, aggregate_id, snapshot_version), row)

    # -- subject keys (crypto-shredding: hindsight.shredding) ------------------------------
    def _keys(self, subjects: Iterable[str]) -> dict[str, bytes | None]:
        wanted = set(subjects)
        return {**dict.fromkeys(wanted), **read_keys(self._conn(), self.placeholder, wanted)}

    def _tx_key(self, conn: Any, subject: str, now: Any) -> bytes | None:
        """Inside the append's transaction: the subject's key, made on first use; None when
        the subject was erased (its row stays, keyless, so no new key is ever made)."""
        conn.execute(self._sql(_NEW_KEY), (subject, new_key(), now))
        row = conn.execute(self._sql(_KEY), (subject,)).fetchone()
        return bytes(row[0]) if row[0] is not None else None

    def _tx_erase(self, conn: Any, subject: str, now: Any) -> None:
        """Inside the appending transaction of an erasing event: the key is gone with it."""
        conn.execute(self._sql(_ERASE), (subject, now, now))

    # -- moving a store to sealing ----------------------------------------------------------
    def seal_in_place(
        self, batch: int = 1000, progress: Callable[[int, int], None] = lambda _d, _t: None
    ) -> SealReport:
        """Seal, in the rows themselves, what the policy seals and an older version of the
        code stored in clear; apply the erasures already in the log (their subjects get no
        key, so their old values become null); drop the snapshots of subjects with a key
        (they held clear state; the next load takes a sealed one); then compact the store, so
        no clear copy is left in a free page. Safe to run again: sealed values stay as they
        are. Run it with no writer attached (the service and the generator stopped)."""
        policy = self.policy  # type: ignore[attr-defined]
        last = self.last_position()  # type: ignore[attr-defined]
        report = SealReport()
        position = 0
        while True:
            events = self._read_all(position + 1, batch)  # type: ignore[attr-defined]
            if not events:
                break
            position = events[-1].position
            with self._rewrite() as conn:
                now = self._time_param(utcnow())
                for e in events:
                    subject = subject_of(e.aggregate_type, e.aggregate_id)
                    if e.event_type in policy.erasing:
                        self._tx_erase(conn, subject, now)
                        report.erased += 1
                    if not needs_sealing(policy, e.event_type, e.data):
                        continue
                    key = self._tx_key(conn, subject, now)
                    data = seal_data(policy, key, subject, e.event_type, e.data)
                    conn.execute(self._sql(_REWRITE), (self._data_param(data), e.position))
                    report.sealed += 1
            progress(position, last)
        with self._rewrite() as conn:
            report.snapshots_dropped = conn.execute(_DROP_SUBJECT_SNAPSHOTS).rowcount
        self._compact()
        return report

    def _rewrite(self) -> AbstractContextManager[Any]:
        raise NotImplementedError

    def _data_param(self, data: dict[str, Any]) -> Any:
        raise NotImplementedError

    def _compact(self) -> None:
        raise NotImplementedError


@dataclass
class SealReport:
    sealed: int = 0  # events whose clear values were sealed
    erased: int = 0  # erasing events applied (their subjects keyless)
    snapshots_dropped: int = 0


_REWRITE = "update hs_events set data = {p} where position = {p}"
_DROP_SUBJECT_SNAPSHOTS = (
    "delete from hs_snapshots where exists (select 1 from hs_subject_keys k "
    "where k.subject = hs_snapshots.aggregate_type || ':' || hs_snapshots.aggregate_id)"
)
