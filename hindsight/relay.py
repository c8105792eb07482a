"""The outbox relay: publishes the stored log to Kafka in position order, at least once.

The event store *is* the outbox: every appended event has a gapless global position, so the
relay only remembers the last position Kafka acknowledged. It confirms a batch only after
every record in it was acknowledged (idempotent producer, acks=all), so a crash anywhere
re-publishes at most the unconfirmed batch — duplicates, never gaps. Consumers drop a
duplicate by its (aggregate id, version). Per-aggregate order holds because the key is the
aggregate id (one partition per aggregate) and the producer keeps order per partition.

Position marks: after a confirmed batch (at most every `mark_every_s`, and always once it has
caught up) the relay writes one mark on every partition of every event topic: "every event up
to position N is before me on this partition". A partition's position alone says nothing of
the others (an idle one may still be about to receive an old position), so a reader that
needs "everything up to N has been read" (read-your-writes: the projection job's frontier)
waits until every partition has passed a mark of N or later. Marks carry MARK_HEADER and
are not events.
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple, Protocol

from hindsight.events import Envelope, record_time_ms
from hindsight.retry import RetryPolicy
from hindsight.topics import MARK_HEADER, topic_name

log = logging.getLogger("hindsight.relay")


class Record(NamedTuple):
    """One log record. `timestamp_ms` is the event's recorded_at: the log's time is when the
    store accepted the event, not when the relay got to it, so Flink's event time and every
    read model's freshness (append -> visible) are measured from the append."""

    topic: str
    key: bytes
    value: bytes
    headers: dict[str, str]
    timestamp_ms: int
    partition: int | None = None  # None: by key; a position mark names its partition


def mark_value(position: int) -> bytes:
    return b'{"relayed_through":%d}' % position


class Publisher(Protocol):
    """Where the relay sends events. `publish` returns only when all were acknowledged."""

    def ensure_topics(self, topics: Sequence[str]) -> None: ...

    def partitions(self, topic: str) -> int:
        """How many partitions `topic` has (a position mark goes to each)."""
        ...

    def publish(self, records: Sequence[Record]) -> None:
        """Records in order; raises if any record was not acknowledged."""
        ...


class Checkpoint(Protocol):
    def load(self) -> int: ...

    def save(self, position: int) -> None: ...


class FileCheckpoint:
    """The last confirmed position, in a file replaced atomically (never half-written)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def load(self) -> int:
        try:
            return int(json.loads(self.path.read_text())["position"])
        except FileNotFoundError:
            return 0

    def save(self, position: int) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        with open(tmp, "w") as f:
            json.dump({"position": position, "saved_at": time.time()}, f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, self.path)


class EventLog(Protocol):
    def read_all(self, from_position: int = 0, limit: int = 1000) -> list[Envelope]: ...

    def last_position(self) -> int: ...


@dataclass
class RelayStats:
    published: int = 0
    batches: int = 0
    failures: int = 0
    position: int = 0


class OutboxRelay:
    def __init__(
        self,
        store: EventLog,
        publisher: Publisher,
        checkpoint: Checkpoint,
        domain_of: Callable[[str], str],
        *,
        batch_size: int = 1000,
        topic_prefix: str = "hindsight",
        domains: Sequence[str] = (),
        mark_every_s: float = 0.2,
        hold: Callable[[], bool] = lambda: False,
        on_hold: Callable[[int], None] = lambda _position: None,
    ) -> None:
        """`hold`: while it says so, publish nothing new (marks of what is published go out,
        then `on_hold(position)`): a rebuild stops the log for a moment to check a new
        generation of the read models exactly."""
        self.store = store
        self.publisher = publisher
        self.checkpoint = checkpoint
        self.domain_of = domain_of
        self.batch_size = batch_size
        self.topic_prefix = topic_prefix
        self.stats = RelayStats(position=checkpoint.load())
        # every domain's topic, made ready (and an existing one's retention checked) at start
        self.topics = [topic_name(d, topic_prefix) for d in domains]
        self.mark_every_s = mark_every_s
        self._marked = 0  # the position of the last marks (none yet since this start)
        self._marked_at = 0.0
        self._last_ms: int | None = None  # record time of the event at stats.position
        self.hold, self.on_hold = hold, on_hold

    def record(self, e: Envelope) -> Record:
        headers = {
            "event_type": e.event_type,
            "schema_version": str(e.schema_version),
            "aggregate_type": e.aggregate_type,
            "position": str(e.position),
        }
        return Record(
            topic_name(self.domain_of(e.aggregate_type), self.topic_prefix),
            e.aggregate_id.encode(),
            e.to_json(),
            headers,
            record_time_ms(e.recorded_at),
        )

    def run_once(self) -> int:
        """Publish one batch after the checkpoint; returns how many events it published."""
        if self.hold():
            if self._marked < self.stats.position:
                self.publish_marks()
            self.on_hold(self.stats.position)
            return 0
        batch = self.store.read_all(from_position=self.stats.position + 1, limit=self.batch_size)
        if not batch:
            if self._marked < self.stats.position:  # caught up: say so on every partition
                self.publish_marks()
            return 0
        self.publisher.publish([self.record(e) for e in batch])
        last = batch[-1].position
        self.checkpoint.save(last)
        self.stats.position = last
        self._last_ms = record_time_ms(batch[-1].recorded_at)
        self.stats.published += len(batch)
        self.stats.batches += 1
        log.info("relay: published %d events up to position %d", len(batch), last)
        if time.monotonic() - self._marked_at >= self.mark_every_s:
            self.publish_marks()
        return len(batch)

    def marks(self) -> list[Record]:
        """One mark of the confirmed position per partition of every event topic. Stamped
        with that event's record time, not now: a replay's bounded source stops at the first
        record stamped after its moment, and a later stamp would stop it before events
        recorded earlier than the mark was written."""
        position = self.stats.position
        if self._last_ms is None:
            at = self.store.read_all(from_position=position, limit=1)
            self._last_ms = record_time_ms(at[0].recorded_at) if at else 0
        headers = {"position": str(position), MARK_HEADER: "relayed"}
        value = mark_value(position)
        return [
            Record(topic, b"", value, headers, self._last_ms, partition)
            for topic in self.topics
            for partition in range(self.publisher.partitions(topic))
        ]

    def publish_marks(self) -> None:
        """Checked like events: a mark lost would hold every reader's frontier back."""
        if not self.topics or self.stats.position == 0:
            return
        self.publisher.publish(self.marks())
        self._marked, self._marked_at = self.stats.position, time.monotonic()

    def run(
        self,
        *,
        until_caught_up: bool = False,
        poll_interval_s: float = 0.2,
        should_stop: Callable[[], bool] = lambda: False,
        on_progress: Callable[[RelayStats], None] | None = None,
        retry_s: float | None = None,
    ) -> RelayStats:
        """Publish until stopped (or caught up). With `retry_s`, a failed batch (broker down,
        a record not acknowledged) is retried with backoff from `retry_s` up to 30 s instead
        of ending the run: it was never confirmed, so the retry loses nothing."""
        outage = RetryPolicy(retry_s or 0.0, max_backoff_s=30.0, budget_s=None)
        delays = outage.delays() if retry_s is not None else None
        try:
            self.publisher.ensure_topics(self.topics)
        except Exception as err:
            if retry_s is None:
                raise
            # Kafka down at start: publishing ensures each batch's topics, and retries
            log.warning("relay: topics not ready at start (%s); publishing will retry", err)
        while not should_stop():
            try:
                n = self.run_once()
            except Exception as err:
                if delays is None:
                    raise
                delay = next(delays)
                self.stats.failures += 1
                log.warning("relay: batch after position %d failed (%s); retry in %.1f s",
                            self.stats.position, err, delay)  # fmt: skip
                wake = time.monotonic() + delay
                while time.monotonic() < wake and not should_stop():
                    time.sleep(min(0.2, delay))
                continue
            if delays is not None:  # a confirmed batch ends an outage: back to the first delay
                delays = outage.delays()
            if on_progress is not None and n:
                on_progress(self.stats)
            if n == 0:
                if until_caught_up:
                    break
                time.sleep(poll_interval_s)
        return self.stats
