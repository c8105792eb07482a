"""PostgreSQL sink: SQL read models written as one version-guarded upsert per table per batch.

The lists a UI pages through (a customer's orders, the orders in a status, newest first) want
an index walked in order and a row per item, which is what a relational table does best. Each
table is a `TableSpec` (pipelines.read_models); a batch is ONE transaction holding, per table,
one statement over all its rows:

    INSERT INTO t (...) SELECT ... FROM jsonb_to_recordset($rows) AS r(...)
    ON CONFLICT (key) DO UPDATE SET ... WHERE t.version < excluded.version

so a re-delivered, duplicated or older output changes nothing (the statement's row count is
what passed the guard; the rest are stale), and a crash leaves the tables at the previous
batch. The positions (connectors.positions) are saved in a table of the same schema, in their
own transaction after the batch's: committed is visible, as in Neo4j.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Mapping, Sequence
from typing import Any

import psycopg
from psycopg import sql

from connectors import clients
from connectors.positions import Durable, Mark, durable
from connectors.sink_worker import (
    SINK_RETRY,
    InvalidOutput,
    SinkError,
    WriteResult,
    rows_by_target,
    sink_backoff,
)
from hindsight.retry import RetryPolicy
from pipelines.model import Output
from pipelines.read_models import InvalidRow, TableSpec

log = logging.getLogger("hindsight.sink.postgres")

_RETRYABLE = (psycopg.OperationalError, psycopg.errors.SerializationFailure,
              psycopg.errors.DeadlockDetected)  # fmt: skip

POSITIONS_TABLE = "read_model_positions"


def upsert_statement(spec: TableSpec, schema: str, prefix: str = "") -> sql.Composed:
    """The batch statement of `spec`: one parameter, the rows as a JSON array."""
    columns = spec.all_columns
    table = sql.Identifier(schema, spec.table_name(prefix))
    names = sql.SQL(", ").join(sql.Identifier(c) for c in columns)
    record = sql.SQL(", ").join(
        sql.SQL("{} {}").format(sql.Identifier(c), sql.SQL(t)) for c, t in columns.items()
    )
    updates = sql.SQL(", ").join(
        sql.SQL("{0} = excluded.{0}").format(sql.Identifier(c)) for c in columns if c != spec.key
    )
    return sql.SQL(
        "INSERT INTO {table} AS t ({names}) SELECT {names} FROM jsonb_to_recordset(%s::jsonb) "
        "AS r({record}) ON CONFLICT ({key}) DO UPDATE SET {updates} "
        "WHERE t.version < excluded.version"
    ).format(table=table, names=names, record=record, key=sql.Identifier(spec.key),
             updates=updates)  # fmt: skip


def create_statements(spec: TableSpec, schema: str, prefix: str = "") -> list[sql.Composed]:
    """The table and its indexes, each IF NOT EXISTS (idempotent at every start)."""
    name = spec.table_name(prefix)
    table = sql.Identifier(schema, name)
    columns = sql.SQL(", ").join(
        sql.SQL("{} {}{}").format(
            sql.Identifier(c), sql.SQL(t), sql.SQL(" PRIMARY KEY" if c == spec.key else "")
        )
        for c, t in spec.all_columns.items()
    )
    out = [sql.SQL("CREATE TABLE IF NOT EXISTS {} ({})").format(table, columns)]
    for parts in spec.indexes:
        index_name = f"{name}_{'_'.join(p.removesuffix(' DESC') for p in parts)}_idx"
        if len(index_name) > 63:  # PostgreSQL's limit: cut, and keep it unique with a digest
            digest = hashlib.sha1(index_name.encode()).hexdigest()[:8]
            index_name = f"{index_name[:50]}_{digest}_idx"
        cols = sql.SQL(", ").join(
            sql.SQL("{}{}").format(
                sql.Identifier(p.removesuffix(" DESC")),
                sql.SQL(" DESC" if p.endswith(" DESC") else ""),
            )
            for p in parts
        )
        out.append(
            sql.SQL("CREATE INDEX IF NOT EXISTS {} ON {} ({})").format(
                sql.Identifier(index_name), table, cols
            )
        )
    return out


def _json_rows(rows: list[dict[str, Any]]) -> str:
    return json.dumps(rows, separators=(",", ":"))


def read_rows(
    conn: psycopg.Connection, specs: Mapping[str, TableSpec], schema: str, prefix: str = ""
) -> dict[tuple[str, str], dict[str, Any]]:
    """Every row of the tables (parity, catch-up progress, rebuild digests), keyed by
    (target, key); a table no worker has created yet has none."""
    rows: dict[tuple[str, str], dict[str, Any]] = {}
    for target, spec in specs.items():
        table = sql.Identifier(schema, spec.table_name(prefix))
        try:
            cur = conn.execute(sql.SQL("SELECT * FROM {}").format(table))
        except psycopg.errors.UndefinedTable:
            continue
        names = [c.name for c in cur.description or ()]
        for values in cur:
            row = dict(zip(names, values, strict=True))
            rows[(target, str(row[spec.key]))] = row
    return rows


class PostgresPositions:
    """The durable marks of one deployment's tables: a row per writer subtask in
    `<schema>.<prefix>read_model_positions`, raised only."""

    def __init__(self, schema: str, prefix: str = "") -> None:
        self.table = sql.Identifier(schema, f"{prefix}{POSITIONS_TABLE}")

    def create(self) -> sql.Composed:
        return sql.SQL(
            "CREATE TABLE IF NOT EXISTS {} (subtask integer NOT NULL, of integer NOT NULL, "
            "position bigint NOT NULL, saved_at double precision NOT NULL, "
            "PRIMARY KEY (subtask, of))"
        ).format(self.table)

    def save(self, conn: psycopg.Connection, marks: Sequence[Mark]) -> None:
        rows = [(d.subtask, d.of, d.position, d.saved_at) for d in durable(marks)]
        with conn.cursor() as cur:
            cur.executemany(
                sql.SQL(
                    "INSERT INTO {} AS p (subtask, of, position, saved_at) VALUES (%s, %s, %s, %s)"
                    " ON CONFLICT (subtask, of) DO UPDATE SET position = excluded.position, "
                    "saved_at = excluded.saved_at WHERE p.position < excluded.position"
                ).format(self.table),
                rows,
            )

    def load(self, conn: psycopg.Connection) -> list[Durable]:
        try:
            with conn.cursor() as cur:
                cur.execute(sql.SQL("SELECT position, subtask, of, saved_at FROM {}").format(
                    self.table))  # fmt: skip
                return [Durable(int(p), int(s), int(o), float(t)) for p, s, o, t in cur]
        except psycopg.errors.UndefinedTable:
            return []  # no worker has started yet: nothing is promised


class PostgresSink:
    """Writes Outputs into the `specs`' tables (a read-model plug-in's TABLE_SPECS).

    table_prefix: tests and rebuilt generations pass a prefix so the real statements run on
    private tables (`t1a2b_order_list`, `gen2_order_list`) of the same schema.
    """

    name = "postgres"

    def __init__(
        self,
        dsn: str,
        *,
        specs: Mapping[str, TableSpec],
        schema: str = "read_models",
        table_prefix: str = "",
        retry: RetryPolicy = SINK_RETRY,
        start_timeout_s: float = 60.0,
    ) -> None:
        self.dsn = dsn
        self.specs = dict(specs)
        self.schema = schema
        self.table_prefix = table_prefix
        self.retry = retry
        self.start_timeout_s = start_timeout_s
        self._statements = {
            t: upsert_statement(s, schema, table_prefix) for t, s in self.specs.items()
        }
        self.positions = PostgresPositions(schema, table_prefix)
        self._conn: psycopg.Connection | None = None

    def _connection(self) -> psycopg.Connection:
        """The sink's one connection, made again after it broke (a restarted server)."""
        if self._conn is None or self._conn.closed or self._conn.broken:
            self._conn = clients.postgres(self.dsn)
        return self._conn

    def _in_transaction(self, work: Any, what: str, on_retry: Any = None) -> Any:
        def attempt() -> Any:
            conn = self._connection()
            try:
                with conn.transaction():
                    return work(conn)
            except _RETRYABLE:
                if conn.broken or conn.closed:
                    self._conn = None
                raise

        try:
            return sink_backoff(attempt, self.retry, _RETRYABLE, what=what, on_retry=on_retry)
        except psycopg.Error as err:
            if isinstance(err, _RETRYABLE):  # pragma: no cover - sink_backoff gave up
                raise
            raise SinkError(f"postgres refused the batch: {err}") from err

    # ------------------------------------------------------------------ start-up

    def start(self) -> None:
        """Wait for the server, then create the schema, tables, indexes (idempotent)."""
        policy = RetryPolicy(max_backoff_s=5.0, budget_s=self.start_timeout_s)

        def healthy() -> None:
            with self._connection().cursor() as cur:
                cur.execute("SELECT 1")
            self._connection().rollback()

        sink_backoff(healthy, policy, _RETRYABLE, what="postgres health check")

        def create(conn: psycopg.Connection) -> None:
            conn.execute(
                sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(self.schema))
            )
            for spec in self.specs.values():
                for statement in create_statements(spec, self.schema, self.table_prefix):
                    conn.execute(statement)
            conn.execute(self.positions.create())

        try:
            self._in_transaction(create, "postgres tables")
        except SinkError as err:
            # two workers creating the same table at once: one wins, the other's next
            # start finds it (CREATE ... IF NOT EXISTS is not safe against a concurrent one)
            if "already exists" not in str(err) and "duplicate key" not in str(err):
                raise
            self._in_transaction(create, "postgres tables")

    # ------------------------------------------------------------------ writing

    def elements(self, target: str) -> tuple[str, ...]:
        return (self.specs[target].name,)  # the contracts name the table, never a prefix

    def validate(self, output: Output) -> None:
        spec = self.specs.get(output.target)
        if spec is None:
            raise InvalidOutput(f"unknown table {output.target!r}; known: {', '.join(self.specs)}")
        try:
            spec.to_row(output)
        except InvalidRow as err:
            raise InvalidOutput(f"{output.target}: {err}") from None

    def write(self, outputs: Sequence[Output]) -> WriteResult:
        """Every table of the batch in one transaction, in a fixed order (fewer deadlocks
        between workers)."""
        result = WriteResult()
        to_row = {t: s.to_row for t, s in self.specs.items()}
        rows = rows_by_target(outputs, to_row, "table", result)
        if not rows:
            return result
        total = sum(len(r) for r in rows.values())

        def work(conn: psycopg.Connection) -> int:
            applied = 0
            with conn.cursor() as cur:
                for target in sorted(rows):
                    cur.execute(self._statements[target], (_json_rows(rows[target]),))
                    applied += max(cur.rowcount, 0)
            return applied

        def count_retry() -> None:
            result.retries += 1

        applied = self._in_transaction(work, "postgres write", count_retry)
        result.written = applied
        result.skipped_stale = total - applied
        return result

    def save_positions(self, marks: Sequence[Mark]) -> None:
        """Committed is visible: no refresh to wait for."""
        self._in_transaction(lambda conn: self.positions.save(conn, marks), "postgres positions")

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    # ------------------------------------------------------------------ for tests and ops

    def drop(self) -> None:
        """Drop this sink's tables (only meaningful with a table prefix)."""

        def work(conn: psycopg.Connection) -> None:
            names = [s.table_name(self.table_prefix) for s in self.specs.values()]
            for name in [*names, f"{self.table_prefix}{POSITIONS_TABLE}"]:
                conn.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(
                    sql.Identifier(self.schema, name)))  # fmt: skip

        self._in_transaction(work, "postgres drop")
