"""Read your own writes: how far each read model is along the log, and waiting for it.

Every command answer carries the global position of its last event. A query given
`min_position=P` waits until the store it reads holds every change of every event up to P (the
store's frontier, connectors.positions: saved by its sink workers in the store itself, so it
survives restarts of the job and the workers) or answers, after the timeout, which store is
behind and where it is. The HTTP service and the CLI both go through `ReadModelPositions`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from connectors import clients
from connectors.elasticsearch_sink import ElasticsearchPositions
from connectors.neo4j_sink import Neo4jPositions
from connectors.positions import frontier
from connectors.postgres_sink import PostgresPositions
from hindsight.events import Envelope
from hindsight.settings import Settings
from hindsight.topics import SINKS

_POLL_S = 0.1
DEFAULT_WAIT_S = 30.0
MAX_WAIT_S = 120.0


class EventLog(Protocol):
    def last_position(self) -> int: ...

    def read_all(self, from_position: int = 0, limit: int = 1000) -> list[Envelope]: ...


class BeyondTheLog(ValueError):
    """A min_position the log has not reached: no wait could ever satisfy it."""

    def __init__(self, wanted: int, end: int) -> None:
        super().__init__(f"min_position {wanted} is beyond the log's end ({end}); "
                         f"allowed: 0 to {end}")  # fmt: skip
        self.wanted, self.end = wanted, end


class Behind(TimeoutError):
    """A store did not reach the position within the wait."""

    def __init__(self, store: str, reached: int, wanted: int, waited_s: float) -> None:
        super().__init__(
            f"{store} has reached position {reached}, not {wanted}, after {waited_s:.1f} s"
        )
        self.store, self.reached, self.wanted, self.waited_s = store, reached, wanted, waited_s


@dataclass(frozen=True)
class StorePosition:
    store: str
    position: int  # every change of every event up to here is visible in the store
    lag_events: int  # events on the log past it
    lag_s: float  # how long the oldest of them has waited (0 when caught up)

    def to_dict(self) -> dict[str, Any]:
        return {"store": self.store, "position": self.position, "lag_events": self.lag_events,
                "lag_seconds": round(self.lag_s, 3)}  # fmt: skip


class ReadModelPositions:
    """The frontiers of one deployment's (or replay's) read models. `es` and `neo4j` build
    the clients on first use (PostgreSQL's is the process's reader): a store that is down
    fails only the reads that need it."""

    def __init__(
        self, settings: Settings, log: EventLog, es: Callable[[], Any], neo4j: Callable[[], Any]
    ) -> None:
        self.log = log
        self._readers: dict[str, Callable[[], int]] = {
            "elasticsearch": lambda: frontier(
                ElasticsearchPositions(es(), settings.es_alias_prefix).load()
            ),
            "neo4j": lambda: frontier(Neo4jPositions(neo4j(), settings.neo4j_label_prefix).load()),
            "postgres": lambda: frontier(
                PostgresPositions(
                    settings.postgres_read_schema, settings.postgres_table_prefix
                ).load(clients.postgres_reader(settings.postgres_dsn))
            ),
        }

    def position(self, store: str) -> int:
        return self._readers[store]()

    def status(self, stores: Iterable[str] = SINKS) -> tuple[int, list[StorePosition]]:
        """The log's end and each store's position and lag behind it."""
        end = self.log.last_position()
        now = datetime.now(UTC)
        out = []
        for store in stores:
            position = min(self.position(store), end)
            lag_s = 0.0
            if position < end:
                oldest = self.log.read_all(from_position=position + 1, limit=1)
                if oldest:
                    lag_s = max(0.0, (now - oldest[0].recorded_at).total_seconds())
            out.append(StorePosition(store, position, end - position, lag_s))
        return end, out

    def check(self, min_position: int) -> None:
        end = self.log.last_position()
        if min_position > end:
            raise BeyondTheLog(min_position, end)

    def wait(
        self, stores: Sequence[str], min_position: int | None, timeout_s: float = DEFAULT_WAIT_S
    ) -> None:
        """Return once every store in `stores` is at `min_position` or past it."""
        if min_position is None:
            return
        self.check(min_position)
        started = time.monotonic()
        pending = list(stores)
        while pending:
            reached = {s: self.position(s) for s in pending}
            pending = [s for s in pending if reached[s] < min_position]
            if not pending:
                return
            waited = time.monotonic() - started
            if waited >= timeout_s:
                store = min(pending, key=lambda s: reached[s])
                raise Behind(store, reached[store], min_position, waited)
            time.sleep(min(_POLL_S, max(0.0, timeout_s - waited)))
