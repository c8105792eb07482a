"""The relay publishes the log in order, confirms only acknowledged batches, resumes."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from hindsight.events import Envelope
from hindsight.relay import FileCheckpoint, OutboxRelay, Record, mark_value, topic_name
from hindsight.topics import MARK_HEADER

T0 = datetime(2026, 1, 1, tzinfo=UTC)
RECORDED = T0 + timedelta(seconds=7)  # the store accepted it later than it happened


def envelope(position: int, aggregate_id: str, version: int) -> Envelope:
    return Envelope(
        event_id=f"e{position}",
        event_type="Thing",
        schema_version=1,
        aggregate_type="thing",
        aggregate_id=aggregate_id,
        version=version,
        position=position,
        occurred_at=T0,
        recorded_at=RECORDED,
        correlation_id=None,
        causation_id=None,
        data={"n": position},
    )


class MemoryLog:
    def __init__(self, events: list[Envelope]) -> None:
        self.events = events

    def read_all(self, from_position: int = 0, limit: int = 1000) -> list[Envelope]:
        return [e for e in self.events if e.position >= from_position][:limit]

    def last_position(self) -> int:
        return self.events[-1].position if self.events else 0


class MemoryPublisher:
    def __init__(self, fail_on_batch: int | None = None) -> None:
        self.sent: list[Record] = []
        self.batches = 0
        self.fail_on_batch = fail_on_batch
        self.ensured: list[list[str]] = []

    def ensure_topics(self, topics: Sequence[str]) -> None:
        self.ensured.append(list(topics))

    def partitions(self, topic: str) -> int:
        return 2

    def publish(self, records: Sequence[Record]) -> None:
        self.batches += 1
        if self.batches == self.fail_on_batch:
            self.sent.extend(records[: len(records) // 2])  # half went out, then the crash
            raise ConnectionError("broker went away")
        self.sent.extend(records)


def make_log(n: int) -> MemoryLog:
    versions: dict[str, int] = {}
    events = []
    for p in range(1, n + 1):
        agg = f"a{p % 3}"
        versions[agg] = versions.get(agg, 0) + 1
        events.append(envelope(p, agg, versions[agg]))
    return MemoryLog(events)


def test_publishes_everything_in_position_order_with_the_aggregate_as_key(tmp_path: Path) -> None:
    log, pub = make_log(25), MemoryPublisher()
    relay = OutboxRelay(
        log, pub, FileCheckpoint(tmp_path / "cp"), lambda _t: "things", batch_size=10
    )
    stats = relay.run(until_caught_up=True)
    assert stats.published == 25 and stats.batches == 3
    assert [Envelope.from_json(r.value).position for r in pub.sent] == list(range(1, 26))
    assert {r.topic for r in pub.sent} == {topic_name("things")}
    assert all(r.key == Envelope.from_json(r.value).aggregate_id.encode() for r in pub.sent)
    assert FileCheckpoint(tmp_path / "cp").load() == 25


def test_a_record_is_stamped_with_its_events_recorded_at(tmp_path: Path) -> None:
    """Kafka's record time is the append time: Flink's event time and every read model's
    freshness are measured from it."""
    log, pub = make_log(3), MemoryPublisher()
    OutboxRelay(log, pub, FileCheckpoint(tmp_path / "cp"), lambda _t: "things").run(
        until_caught_up=True
    )
    assert {r.timestamp_ms for r in pub.sent} == {int(RECORDED.timestamp() * 1000)}


def test_a_crash_mid_batch_resumes_from_the_last_confirmed_position(tmp_path: Path) -> None:
    log = make_log(30)
    cp = FileCheckpoint(tmp_path / "cp")
    crashing = MemoryPublisher(fail_on_batch=2)
    relay = OutboxRelay(log, crashing, cp, lambda _t: "things", batch_size=10)
    with pytest.raises(ConnectionError):
        relay.run(until_caught_up=True)
    assert cp.load() == 10  # the half-sent batch was never confirmed

    again = MemoryPublisher()
    OutboxRelay(log, again, cp, lambda _t: "things", batch_size=10).run(until_caught_up=True)
    delivered = [Envelope.from_json(r.value) for r in crashing.sent + again.sent]
    positions = {e.position for e in delivered}
    assert positions == set(range(1, 31))  # nothing lost (some sent twice: at least once)
    # per aggregate, the first delivery of each version comes in version order
    for agg in ("a0", "a1", "a2"):
        firsts: list[int] = []
        for e in delivered:
            if e.aggregate_id == agg and e.version not in firsts:
                firsts.append(e.version)
        assert firsts == sorted(firsts)


def test_a_running_relay_retries_a_failed_batch_and_loses_nothing(tmp_path: Path) -> None:
    log, flaky = make_log(30), MemoryPublisher(fail_on_batch=2)
    relay = OutboxRelay(log, flaky, FileCheckpoint(tmp_path / "cp"), lambda _t: "things",
                        batch_size=10)  # fmt: skip
    stats = relay.run(until_caught_up=True, retry_s=0.01)
    assert stats.failures == 1 and stats.position == 30
    assert {Envelope.from_json(r.value).position for r in flaky.sent} == set(range(1, 31))


def test_every_domains_topic_is_made_ready_before_the_first_batch(tmp_path: Path) -> None:
    """At start-up, not at a domain's first event: a topic is created with the retention the
    log needs (and an existing one's retention checked) before anything is published."""
    pub = MemoryPublisher()
    relay = OutboxRelay(MemoryLog([]), pub, FileCheckpoint(tmp_path / "cp"), lambda _t: "x",
                        topic_prefix="acme", domains=["orders", "billing"])  # fmt: skip
    relay.run(until_caught_up=True)
    assert pub.ensured == [["acme.orders.events", "acme.billing.events"]]


def _marks(records: Sequence[Record]) -> list[Record]:
    return [r for r in records if MARK_HEADER in r.headers]


def test_a_caught_up_relay_marks_every_partition_after_the_events_it_covers(
    tmp_path: Path,
) -> None:
    """A reader may take "every event up to N has been read" only from a mark on EVERY
    partition: each mark follows (in publish order) all the events it covers."""
    log, pub = make_log(25), MemoryPublisher()
    relay = OutboxRelay(log, pub, FileCheckpoint(tmp_path / "cp"), lambda _t: "things",
                        batch_size=10, domains=["things"], mark_every_s=3600)  # fmt: skip
    relay.run(until_caught_up=True)
    marks = _marks(pub.sent)
    # the first batch marks at once (none for an hour before it), the catch-up marks 25
    assert sorted({(r.headers["position"], r.partition) for r in marks}) == [
        ("10", 0), ("10", 1), ("25", 0), ("25", 1)
    ]  # fmt: skip
    for mark in marks:
        covered = int(mark.headers["position"])
        at = pub.sent.index(mark)
        before = [Envelope.from_json(r.value).position for r in pub.sent[:at]
                  if MARK_HEADER not in r.headers]  # fmt: skip
        assert set(range(1, covered + 1)) <= set(before)
        assert mark.value == mark_value(covered) and mark.topic == topic_name("things")
        assert mark.timestamp_ms == int(RECORDED.timestamp() * 1000)  # its last event's time


def test_a_restarted_relay_marks_its_confirmed_position_without_new_events(
    tmp_path: Path,
) -> None:
    log, cp = make_log(5), FileCheckpoint(tmp_path / "cp")
    OutboxRelay(log, MemoryPublisher(), cp, lambda _t: "things", domains=["things"]).run(
        until_caught_up=True
    )
    again = MemoryPublisher()
    OutboxRelay(log, again, cp, lambda _t: "things", domains=["things"]).run(until_caught_up=True)
    assert [(r.headers["position"], r.partition) for r in again.sent] == [("5", 0), ("5", 1)]


def test_a_held_relay_publishes_nothing_new_marks_what_it_published_and_says_where(
    tmp_path: Path,
) -> None:
    log, pub = make_log(30), MemoryPublisher()
    holding, answered = [False], []
    relay = OutboxRelay(log, pub, FileCheckpoint(tmp_path / "cp"), lambda _t: "things",
                        batch_size=10, domains=["things"], mark_every_s=3600,
                        hold=lambda: holding[0], on_hold=answered.append)  # fmt: skip
    assert relay.run_once() == 10
    holding[0] = True
    sent = len(pub.sent)
    assert relay.run_once() == 0 and relay.run_once() == 0
    assert answered == [10, 10]
    assert all(MARK_HEADER in r.headers for r in pub.sent[sent:])  # marks only, of 10
    assert {r.headers["position"] for r in pub.sent[sent:]} <= {"10"}
    holding[0] = False
    relay.run(until_caught_up=True)
    assert relay.stats.position == 30
