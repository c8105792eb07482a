"""Neo4j sink: graph read models written as one UNWIND statement per pattern per batch.

A batch is one write transaction, so a crash leaves the graph at the previous batch, never
half-way through one. Each pattern's statement guards on the primary node's `version` (see
`pipelines.read_models`), which makes a re-delivered batch a no-op; the statement returns
how many rows passed the guard, the rest are reported as stale.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence

from neo4j import Driver, ManagedTransaction
from neo4j.exceptions import Neo4jError, ServiceUnavailable, SessionExpired, TransientError

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
from pipelines.read_models import GraphPattern, InvalidRow

log = logging.getLogger("hindsight.sink.neo4j")

_RETRYABLE = (ServiceUnavailable, SessionExpired, TransientError, OSError)


POSITION_LABEL = "ReadModelPosition"


class Neo4jPositions:
    """The durable marks of one graph (connectors.positions): a node per writer subtask,
    `(:<prefix>ReadModelPosition {subtask, of, position, saved_at})`, raised only."""

    def __init__(self, driver: Driver, label_prefix: str = "", database: str | None = None) -> None:
        self.driver, self.database = driver, database
        self.label = f"{label_prefix}{POSITION_LABEL}"

    def constraint(self) -> str:
        return (f"CREATE CONSTRAINT {self.label}_key IF NOT EXISTS FOR (p:{self.label}) "
                "REQUIRE (p.subtask, p.of) IS UNIQUE")  # fmt: skip

    def drop_constraint(self) -> str:
        return f"DROP CONSTRAINT {self.label}_key IF EXISTS"

    def save(self, marks: Sequence[Mark]) -> None:
        rows = [{"subtask": d.subtask, "of": d.of, "position": d.position, "saved_at": d.saved_at}
                for d in durable(marks)]  # fmt: skip
        self.driver.execute_query(
            f"UNWIND $rows AS r MERGE (p:{self.label} {{subtask: r.subtask, of: r.of}}) "
            "WITH p, r WHERE coalesce(p.position, -1) < r.position "
            "SET p.position = r.position, p.saved_at = r.saved_at",
            rows=rows,
            database_=self.database,
        )

    def load(self) -> list[Durable]:
        records, _, _ = self.driver.execute_query(
            f"MATCH (p:{self.label}) RETURN p.position AS position, p.subtask AS subtask, "
            "p.of AS of, p.saved_at AS saved_at",
            database_=self.database,
        )
        return [Durable(r["position"], r["subtask"], r["of"], r["saved_at"]) for r in records]


class Neo4jSink:
    """Writes Outputs through the `patterns` (a read-model plug-in's GRAPH_PATTERNS).

    label_prefix: tests pass a unique prefix so the real statements run on private labels
    (`T1a2bCustomer`), which isolates them from each other and from the platform's graph.
    """

    name = "neo4j"

    def __init__(
        self,
        uri: str,
        auth: tuple[str, str],
        *,
        patterns: Mapping[str, GraphPattern],
        label_prefix: str = "",
        database: str | None = None,
        retry: RetryPolicy = SINK_RETRY,
        start_timeout_s: float = 60.0,
    ) -> None:
        self.patterns = dict(patterns)
        self.label_prefix = label_prefix
        self.database = database
        self.retry = retry
        self.start_timeout_s = start_timeout_s
        # the driver's own transaction retries stay short: backoff across an outage is ours
        self.driver: Driver = clients.neo4j(
            uri, auth, max_transaction_retry_time=5.0, connection_timeout=5.0
        )
        self._statements = {t: p.statement(label_prefix) for t, p in self.patterns.items()}
        self.positions = Neo4jPositions(self.driver, label_prefix, database)

    # ------------------------------------------------------------------ start-up

    def start(self) -> None:
        """Wait for the server, then create the uniqueness constraints MERGE relies on."""
        policy = RetryPolicy(max_backoff_s=5.0, budget_s=self.start_timeout_s)
        sink_backoff(self.driver.verify_connectivity, policy, _RETRYABLE,
                     what="neo4j connectivity check")  # fmt: skip
        wanted = dict.fromkeys(
            s for p in self.patterns.values() for s in p.constraint_statements(self.label_prefix)
        )
        for statement in [*wanted, self.positions.constraint()]:
            self.driver.execute_query(statement, database_=self.database)

    # ------------------------------------------------------------------ writing

    def elements(self, target: str) -> tuple[str, ...]:
        return self.patterns[target].elements()

    def validate(self, output: Output) -> None:
        pattern = self.patterns.get(output.target)
        if pattern is None:
            raise InvalidOutput(
                f"unknown graph pattern {output.target!r}; known: {', '.join(self.patterns)}"
            )
        try:
            pattern.to_row(output)
        except InvalidRow as err:
            raise InvalidOutput(f"{output.target}: {err}") from None

    def write(self, outputs: Sequence[Output]) -> WriteResult:
        """All patterns of the batch in one transaction, in a fixed order (fewer deadlocks
        between workers that share Product and Customer nodes)."""
        result = WriteResult()
        to_row = {t: p.to_row for t, p in self.patterns.items()}
        rows = rows_by_target(outputs, to_row, "graph pattern", result)
        if not rows:
            return result
        total = sum(len(r) for r in rows.values())

        def work(tx: ManagedTransaction) -> int:
            applied = 0
            for target in sorted(rows):
                record = tx.run(self._statements[target], rows=rows[target]).single()
                applied += record["applied"] if record is not None else 0
            return applied

        def attempt() -> int:
            with self.driver.session(database=self.database) as session:
                return session.execute_write(work)

        def count_retry() -> None:
            result.retries += 1

        try:
            applied = sink_backoff(attempt, self.retry, _RETRYABLE, what="neo4j write",
                                   on_retry=count_retry)  # fmt: skip
        except Neo4jError as err:
            if err.is_retryable():  # pragma: no cover - the driver retried already
                raise
            raise SinkError(f"neo4j refused the batch: {err}") from err
        result.written = applied
        result.skipped_stale = total - applied
        return result

    def save_positions(self, marks: Sequence[Mark]) -> None:
        """Committed is visible in Neo4j: no refresh to wait for."""
        sink_backoff(lambda: self.positions.save(marks), self.retry, _RETRYABLE,
                     what="neo4j positions")  # fmt: skip

    def close(self) -> None:
        self.driver.close()

    # ------------------------------------------------------------------ for tests and ops

    def drop(self) -> None:
        """Delete this sink's nodes and constraints (only meaningful with a label prefix)."""
        labels = sorted({label for p in self.patterns.values() for label, _ in p.unique})
        labels.append(POSITION_LABEL)
        with self.driver.session(database=self.database) as session:
            for label in labels:
                # CALL ... IN TRANSACTIONS needs an auto-commit transaction: session.run.
                # Relationships first, in batches of their own: DETACH DELETE of a hub (a
                # Category with 100k CONTAINS) holds them all in one transaction, which ran
                # the server out of transaction memory on a benchmark-sized graph
                session.run(
                    f"MATCH (:{self.label_prefix}{label})-[r]->() CALL (r) {{ DELETE r }} "
                    "IN TRANSACTIONS OF 5000 ROWS"
                ).consume()
                session.run(
                    f"MATCH (n:{self.label_prefix}{label}) CALL (n) {{ DETACH DELETE n }} "
                    "IN TRANSACTIONS OF 5000 ROWS"
                ).consume()
            drops = (s for p in self.patterns.values() for s in p.drop_constraint_statements(
                self.label_prefix))  # fmt: skip
            for statement in [*dict.fromkeys(drops), self.positions.drop_constraint()]:
                session.run(statement).consume()
