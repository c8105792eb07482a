"""The event store contract: every backend must pass exactly these tests.

Subclass `EventStoreContract` once per backend and provide the `open_store` fixture (a factory
opening the SAME database each call, so a test can reopen it as a newer version of the code)
and `write_legacy_row` (raw SQL, as an older version of the code wrote rows).
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hindsight.aggregate import DomainError
from hindsight.events import NewEvent
from hindsight.eventstore import (
    ConcurrencyError,
    EventStore,
    IdempotencyKeyReused,
    Repository,
    Snapshot,
    SnapshotCodec,
    StreamAppend,
    Upcasters,
)
from hindsight.shredding import KeyReader, Policy, is_sealed
from hindsight.storable import UnstorableValue
from tests.ledger import LEDGER, Deposit, Many, Withdraw

OpenStore = Callable[..., EventStore]


def deposited(amount: int) -> NewEvent:
    return NewEvent("Deposited", {"amount": amount, "currency": "EUR"}, 3)


def ledger_upcasters() -> Upcasters:
    """Deposited v1 {"cents"} -> v2 {"amount"} -> v3 {"amount", "currency"}."""
    up = Upcasters()
    up.register("Deposited", 1, lambda d: {"amount": d["cents"]})
    up.register("Deposited", 2, lambda d: {**d, "currency": "EUR"})
    return up


# a person's name and email are sealed under their key; "Forgotten" destroys it
PERSONS = Policy({"Registered": frozenset({"name", "email"})}, frozenset({"Forgotten"}))


def registered(name: str, email: str) -> NewEvent:
    return NewEvent("Registered", {"name": name, "email": email, "city": "Oslo"})


def new_id() -> str:
    return uuid.uuid4().hex[:12]


class EventStoreContract:
    @pytest.fixture
    def open_store(self) -> OpenStore:
        raise NotImplementedError("a backend's test class provides open_store")

    def write_legacy_row(self, store: EventStore, row: dict[str, Any]) -> None:
        raise NotImplementedError("a backend's test class writes a row with raw SQL")

    @pytest.fixture
    def store(self, open_store: OpenStore) -> EventStore:
        return open_store(upcasters=ledger_upcasters())

    # -- append & read ---------------------------------------------------------------------
    def test_append_then_read_stream(self, store: EventStore) -> None:
        result = store.append(
            "ledger",
            "a",
            0,
            [deposited(5), NewEvent("Withdrawn", {"amount": 2})],
            correlation_id="corr-1",
            causation_id="cause-1",
        )
        assert (result.version, result.first_position, result.last_position) == (2, 1, 2)
        stored = store.read_stream("ledger", "a")
        assert stored == list(result.envelopes)
        assert [e.event_type for e in stored] == ["Deposited", "Withdrawn"]
        assert [e.version for e in stored] == [1, 2]
        assert stored[1].data == {"amount": 2}
        assert {e.correlation_id for e in stored} == {"corr-1"}
        assert {e.causation_id for e in stored} == {"cause-1"}
        assert len({e.event_id for e in stored}) == 2
        assert store.stream_version("ledger", "a") == 2
        assert store.read_stream("ledger", "a", 2) == stored[1:]
        assert store.read_stream("ledger", "a", 1, 1) == stored[:1]

    def test_empty_stream_is_version_zero(self, store: EventStore) -> None:
        assert store.read_stream("ledger", "nobody") == []
        assert store.stream_version("ledger", "nobody") == 0
        assert store.read_all() == []
        assert store.last_position() == 0

    def test_occurred_at_is_kept_and_recorded_at_is_the_stores(self, store: EventStore) -> None:
        then = datetime(2020, 2, 29, 12, 0, 0, 123456, tzinfo=UTC)
        before = datetime.now(UTC)
        store.append("ledger", "t", 0, [NewEvent("Withdrawn", {"amount": 1}, 1, then)])
        (e,) = store.read_stream("ledger", "t")
        assert e.occurred_at == then
        assert before - timedelta(seconds=5) <= e.recorded_at <= datetime.now(UTC)

    def test_envelope_json_round_trip(self, store: EventStore) -> None:
        store.append("ledger", "j", 0, [deposited(3)])
        (e,) = store.read_all()
        assert type(e).from_json(e.to_json()) == e

    # -- optimistic concurrency ------------------------------------------------------------
    @pytest.mark.parametrize("expected", [0, 1, 3])
    def test_conflict_raises_and_writes_nothing(self, store: EventStore, expected: int) -> None:
        store.append("ledger", "c", 0, [deposited(1), deposited(2)])
        with pytest.raises(ConcurrencyError) as err:
            store.append("ledger", "c", expected, [deposited(9)])
        assert "ledger/c" in str(err.value)
        assert f"expected version {expected}" in str(err.value)
        assert "actual version 2" in str(err.value)
        assert (err.value.expected, err.value.actual) == (expected, 2)
        assert [e.data["amount"] for e in store.read_stream("ledger", "c")] == [1, 2]
        assert store.last_position() == 2

    def test_append_many_is_atomic(self, store: EventStore) -> None:
        store.append("ledger", "x", 0, [deposited(1)])
        with pytest.raises(ConcurrencyError):
            store.append_many(
                [
                    StreamAppend("ledger", "y", 0, [deposited(2)]),
                    StreamAppend("ledger", "x", 0, [deposited(3)]),  # stale
                ]
            )
        assert store.read_stream("ledger", "y") == []
        assert store.last_position() == 1
        results = store.append_many(
            [
                StreamAppend("ledger", "y", 0, [deposited(2), deposited(3)]),
                StreamAppend("ledger", "x", 1, [deposited(4)]),
            ]
        )
        assert [(r.aggregate_id, r.version, r.first_position) for r in results] == [
            ("y", 2, 2),
            ("x", 2, 4),
        ]
        assert [e.position for e in store.read_all()] == [1, 2, 3, 4]

    def test_empty_append_checks_the_version_and_writes_nothing(self, store: EventStore) -> None:
        store.append("ledger", "e", 0, [deposited(1)])
        result = store.append("ledger", "e", 1, [])
        assert (result.version, result.first_position, result.envelopes) == (1, None, ())
        with pytest.raises(ConcurrencyError):
            store.append("ledger", "e", 0, [])
        assert store.last_position() == 1

    # -- text every backend can keep ------------------------------------------------------
    @pytest.mark.parametrize(
        ("stream", "data", "field"),
        [
            ("t1", {"memo": "a\x00b"}, "events[1].data.memo"),
            ("t2", {"lines": [{"note": "\ud800"}]}, "events[1].data.lines[0].note"),
            ("t3\x00", {"memo": "fine"}, "aggregate_id"),
        ],
    )
    def test_unstorable_value_is_refused_naming_the_field(
        self, store: EventStore, stream: str, data: dict[str, Any], field: str
    ) -> None:
        events = [deposited(1), NewEvent("Noted", data)]
        with pytest.raises(UnstorableValue) as refused:
            store.append("ledger", stream, 0, events)
        assert refused.value.field == field
        assert store.last_position() == 0

    def test_text_that_only_looks_like_an_escape_is_kept(self, store: EventStore) -> None:
        data = {"memo": "\\u0000 is how JSON writes NUL", "emoji": "\U0001f600", "key\\u0000": 1}
        store.append("ledger", "t4", 0, [NewEvent("Noted", data)])
        assert store.read_stream("ledger", "t4")[0].data == data

    def test_unstorable_value_fails_only_its_own_concurrent_append(self, store: EventStore) -> None:
        """Group commit: a member with bad text is refused alone, its neighbours land."""
        errors: list[BaseException] = []
        barrier = threading.Barrier(6)

        def write(i: int) -> None:
            barrier.wait()
            try:
                memo = "bad\x00" if i == 3 else f"ok {i}"
                store.append("ledger", f"g{i}", 0, [NewEvent("Noted", {"memo": memo})])
            except UnstorableValue as err:
                errors.append(err)

        threads = [threading.Thread(target=write, args=(i,)) for i in range(6)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert [e.field for e in errors] == ["events[0].data.memo"]  # type: ignore[attr-defined]
        assert sorted(e.aggregate_id for e in store.read_all()) == ["g0", "g1", "g2", "g4", "g5"]

    # -- idempotency -----------------------------------------------------------------------
    def test_idempotent_append_returns_the_same_result(self, store: EventStore) -> None:
        first = store.append("ledger", "i", 0, [deposited(1), deposited(2)], idempotency_key="k")
        again = store.append("ledger", "i", 0, [deposited(1), deposited(2)], idempotency_key="k")
        assert again == first
        # a retry after the stream moved on (its expected version is stale) is still a retry
        store.append("ledger", "i", 2, [deposited(3)])
        late = store.append("ledger", "i", 0, [deposited(1), deposited(2)], idempotency_key="k")
        assert late == first
        assert [e.data["amount"] for e in store.read_stream("ledger", "i")] == [1, 2, 3]
        assert store.last_position() == 3

    def test_idempotency_key_reused_for_another_stream_is_refused(self, store: EventStore) -> None:
        store.append("ledger", "p", 0, [deposited(1)], idempotency_key="same")
        with pytest.raises(IdempotencyKeyReused):
            store.append("ledger", "q", 0, [deposited(1)], idempotency_key="same")
        assert store.read_stream("ledger", "q") == []

    def test_concurrent_retries_with_one_key_write_once(self, store: EventStore) -> None:
        results: list[Any] = []
        barrier = threading.Barrier(4)

        def retry() -> None:
            barrier.wait()
            results.append(store.append("ledger", "r", 0, [deposited(7)], idempotency_key="rk"))

        threads = [threading.Thread(target=retry) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert len(results) == 4
        assert all(r == results[0] for r in results)
        assert len(store.read_stream("ledger", "r")) == 1

    # -- ordering --------------------------------------------------------------------------
    def test_versions_gapless_and_positions_increasing(self, store: EventStore) -> None:
        versions = {"s1": 0, "s2": 0, "s3": 0}
        for i in range(30):
            sid = f"s{i % 3 + 1}"
            n = i % 4 + 1
            r = store.append("ledger", sid, versions[sid], [deposited(i)] * n)
            versions[sid] = r.version
        everything = store.read_all(limit=10_000)
        assert [e.position for e in everything] == list(range(1, len(everything) + 1))
        for sid, v in versions.items():
            assert [e.version for e in store.read_stream("ledger", sid)] == list(range(1, v + 1))
        recorded = [e.recorded_at for e in everything]
        assert recorded == sorted(recorded)

    def test_read_all_from_a_position_with_a_limit(self, store: EventStore) -> None:
        for i in range(10):
            store.append("ledger", "ra", i, [deposited(i + 1)])
        page = store.read_all(from_position=4, limit=3)
        assert [e.position for e in page] == [4, 5, 6]
        assert [e.position for e in store.read_all(from_position=9)] == [9, 10]
        assert store.read_all(from_position=11) == []
        assert store.last_position() == 10

    def test_event_counts_per_aggregate_type_all_and_since_a_time(self, store: EventStore) -> None:
        assert store.event_counts() == {}
        store.append("ledger", "c1", 0, [deposited(1), deposited(2)])
        store.append("account", "c2", 0, [deposited(3)])
        cut = store.read_all(0)[-1].recorded_at + timedelta(microseconds=1)
        while datetime.now(UTC) <= cut:  # the next append is recorded after the cut
            time.sleep(0.001)
        store.append("ledger", "c3", 0, [deposited(4)])
        assert store.event_counts() == {"ledger": 3, "account": 1}
        assert store.event_counts(since=cut) == {"ledger": 1}
        assert store.event_counts(since=datetime.now(UTC) + timedelta(days=1)) == {}

    def test_two_threads_one_stream_exactly_one_wins(self, store: EventStore) -> None:
        rounds = 15

        def contend(version: int, barrier: threading.Barrier, outcome: list[str]) -> None:
            barrier.wait()
            try:
                store.append("ledger", "hot", version, [deposited(1)])
                outcome.append("won")
            except ConcurrencyError:
                outcome.append("lost")

        for version in range(rounds):
            barrier = threading.Barrier(2)
            outcome: list[str] = []
            threads = [
                threading.Thread(target=contend, args=(version, barrier, outcome)) for _ in range(2)
            ]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            assert sorted(outcome) == ["lost", "won"]
        stream = store.read_stream("ledger", "hot")
        assert [e.version for e in stream] == list(range(1, rounds + 1))
        assert [e.position for e in stream] == list(range(1, rounds + 1))

    @pytest.mark.parametrize("processes", [1, 3])
    def test_many_concurrent_writers_all_land_once_in_gapless_order(
        self, open_store: OpenStore, processes: int
    ) -> None:
        """Concurrent single appends share commits (group commit): none lost, none doubled,
        one hot stream still admits exactly one writer per version, keys still dedupe.
        With 3 "processes" the writers are spread over 3 store objects on one database
        (own connections, own group commits), as separate service processes would be."""
        stores = [open_store(upcasters=ledger_upcasters()) for _ in range(processes)]
        store = stores[0]
        writers, per_writer = 12, 10
        barrier = threading.Barrier(writers)
        lost: list[int] = []
        errors: list[BaseException] = []

        def write(w: int) -> None:
            mine = stores[w % processes]
            barrier.wait()
            try:
                for i in range(per_writer):
                    mine.append("ledger", f"own-{w}", i, [deposited(i + 1)])
                    try:  # everyone races for version i + 1 of one hot stream
                        mine.append("ledger", "hot", i, [deposited(1)])
                    except ConcurrencyError:
                        lost.append(i)
                    # every writer retries the same keyed append: it must land once
                    mine.append("ledger", f"keyed-{i}", 0, [deposited(2)], idempotency_key=f"k{i}")
            except BaseException as exc:  # surfaced below: a thread's failure fails the test
                errors.append(exc)

        threads = [threading.Thread(target=write, args=(w,)) for w in range(writers)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert errors == []
        everything = store.read_all(limit=100_000)
        assert [e.position for e in everything] == list(range(1, len(everything) + 1))
        for w in range(writers):
            own = store.read_stream("ledger", f"own-{w}")
            assert [e.data["amount"] for e in own] == list(range(1, per_writer + 1))
        hot = store.read_stream("ledger", "hot")
        assert [e.version for e in hot] == list(range(1, len(hot) + 1))
        assert len(hot) + len(lost) == writers * per_writer
        for i in range(per_writer):
            assert len(store.read_stream("ledger", f"keyed-{i}")) == 1
        assert len(everything) == writers * per_writer + len(hot) + per_writer

    def test_a_tailing_reader_never_skips_an_event(self, store: EventStore) -> None:
        writers, per_writer = 3, 25
        done = threading.Event()
        seen: list[int] = []

        def write(w: int) -> None:
            for i in range(per_writer):
                store.append("ledger", f"w{w}", i, [deposited(1)])

        def tail() -> None:
            cursor = 1
            while True:
                finished = done.is_set()
                page = store.read_all(from_position=cursor, limit=50)
                seen.extend(e.position for e in page)
                if page:
                    cursor = page[-1].position + 1
                elif finished:
                    return

        reader = threading.Thread(target=tail)
        reader.start()
        threads = [threading.Thread(target=write, args=(w,)) for w in range(writers)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        done.set()
        reader.join()
        assert seen == list(range(1, writers * per_writer + 1))

    # -- snapshots -------------------------------------------------------------------------
    def test_snapshot_save_and_load(self, store: EventStore) -> None:
        for v in (3, 6, 9):
            store.save_snapshot(Snapshot("ledger", "sn", v, 1, {"v": v}))
        store.save_snapshot(Snapshot("ledger", "sn", 12, 2, {"v": 12}))
        assert store.load_snapshot("ledger", "sn", 1).state == {"v": 9}  # type: ignore[union-attr]
        assert store.load_snapshot("ledger", "sn", 1, max_version=7).version == 6  # type: ignore[union-attr]
        assert store.load_snapshot("ledger", "sn", 1, max_version=2) is None
        assert store.load_snapshot("ledger", "sn", 2).version == 12  # type: ignore[union-attr]
        assert store.load_snapshot("ledger", "other", 1) is None

    def test_repository_snapshots_every_n_events(self, store: EventStore) -> None:
        repo = Repository(store, snapshot_every=3)
        for amount in range(1, 8):
            repo.handle(LEDGER, "n", Deposit(amount))
        assert store.load_snapshot("ledger", "n", 1).version == 6  # type: ignore[union-attr]
        assert store.load_snapshot("ledger", "n", 1, max_version=5).version == 3  # type: ignore[union-attr]
        loaded = repo.load(LEDGER, "n")
        assert (loaded.version, loaded.from_snapshot, loaded.state["balance"]) == (7, 6, 28)
        # one command crossing two multiples still leaves a snapshot at its own version
        repo.handle(LEDGER, "n", Many((1, 1, 1, 1, 1)))
        assert store.load_snapshot("ledger", "n", 1).version == 12  # type: ignore[union-attr]
        with_snapshot = repo.load(LEDGER, "n")
        replayed = repo.load(LEDGER, "n", use_snapshots=False)
        assert (with_snapshot.state, with_snapshot.version) == (replayed.state, replayed.version)

    def test_a_new_snapshot_version_ignores_old_snapshots(self, store: EventStore) -> None:
        old = Repository(store, snapshot_every=2)
        for amount in (1, 2, 3, 4):
            old.handle(LEDGER, "sv", Deposit(amount))
        assert old.load(LEDGER, "sv").from_snapshot == 4
        new = Repository(
            store, snapshot_every=2, codecs={"ledger": SnapshotCodec(snapshot_version=2)}
        )
        fresh = new.load(LEDGER, "sv")
        assert (fresh.from_snapshot, fresh.state) == (0, old.load(LEDGER, "sv").state)

    @settings(
        max_examples=25,
        deadline=None,
        # function-scoped store: each example uses a fresh stream id, so sharing it is safe;
        # differing executors: the one method runs under each backend's subclass by design
        suppress_health_check=[
            HealthCheck.function_scoped_fixture,
            HealthCheck.too_slow,
            HealthCheck.differing_executors,
        ],
    )
    @given(
        batches=st.lists(
            st.lists(st.integers(min_value=-50, max_value=100), min_size=0, max_size=6),
            min_size=1,
            max_size=12,
        ),
        every=st.integers(min_value=1, max_value=7),
        data=st.data(),
    )
    def test_snapshot_load_equals_full_replay(
        self, store: EventStore, batches: list[list[int]], every: int, data: st.DataObject
    ) -> None:
        repo = Repository(store, snapshot_every=every)
        aid = new_id()
        for batch in batches:
            repo.handle(LEDGER, aid, Many(tuple(batch)))
        full = repo.load(LEDGER, aid, use_snapshots=False)
        snap = repo.load(LEDGER, aid)
        assert (snap.state, snap.version) == (full.state, full.version)
        assert (snap.from_snapshot > 0) == (full.version >= every)
        v = data.draw(st.integers(min_value=0, max_value=full.version), label="as_of_version")
        past = repo.load(LEDGER, aid, as_of_version=v)
        prefix = [(e.event_type, e.data) for e in store.read_stream("ledger", aid)[:v]]
        assert past.state == LEDGER.fold(prefix)
        assert past.version == v

    # -- time travel -----------------------------------------------------------------------
    def test_load_as_of_a_version(self, store: EventStore) -> None:
        repo = Repository(store, snapshot_every=2)
        for amount in (10, 20, 30, 40, 50):
            repo.handle(LEDGER, "tv", Deposit(amount))
        assert repo.load(LEDGER, "tv", as_of_version=3).state["balance"] == 60
        assert repo.load(LEDGER, "tv", as_of_version=3).version == 3
        assert repo.load(LEDGER, "tv", as_of_version=0).state == LEDGER.initial()
        assert repo.load(LEDGER, "tv", as_of_version=99).version == 5

    def test_load_as_of_a_time_uses_recorded_at(self, store: EventStore) -> None:
        repo = Repository(store, snapshot_every=2)
        marks = []
        for amount in (1, 2, 4, 8):
            r = repo.handle(LEDGER, "tt", Deposit(amount))
            marks.append(r.envelopes[-1].recorded_at)
            time.sleep(0.01)
        assert repo.load(LEDGER, "tt", as_of_time=marks[0] - timedelta(seconds=1)).version == 0
        for i, t in enumerate(marks):
            loaded = repo.load(LEDGER, "tt", as_of_time=t)
            assert loaded.version == i + 1
            assert loaded.state["balance"] == sum((1, 2, 4, 8)[: i + 1])
            between = repo.load(LEDGER, "tt", as_of_time=t + timedelta(milliseconds=5))
            assert between.version == i + 1
        # occurred_at in the past does not rewrite what was known then
        store.append("ledger", "tt", 4, [NewEvent("Withdrawn", {"amount": 1}, 1, marks[0])])
        assert repo.load(LEDGER, "tt", as_of_time=marks[3]).version == 4

    # -- upcasting -------------------------------------------------------------------------
    def test_an_old_row_is_read_upcast_on_every_path(self, open_store: OpenStore) -> None:
        old = open_store()
        self.write_legacy_row(
            old,
            {
                "event_id": str(uuid.uuid4()),
                "event_type": "Deposited",
                "schema_version": 1,
                "aggregate_type": "ledger",
                "aggregate_id": "legacy",
                "version": 1,
                "position": 1,
                "occurred_at": datetime(2019, 1, 1, tzinfo=UTC),
                "recorded_at": datetime(2019, 1, 1, tzinfo=UTC),
                "data": '{"cents": 250}',
            },
        )
        assert old.read_stream("ledger", "legacy")[0].data == {"cents": 250}
        new = open_store(upcasters=ledger_upcasters())
        (e,) = new.read_stream("ledger", "legacy")
        assert (e.schema_version, e.data) == (3, {"amount": 250, "currency": "EUR"})
        assert new.read_all() == [e]
        repo = Repository(new, snapshot_every=2)
        assert repo.load(LEDGER, "legacy").state["balance"] == 250
        repo.handle(LEDGER, "legacy", Deposit(50))  # a new event after the old one
        assert repo.load(LEDGER, "legacy").state["balance"] == 300
        assert repo.load(LEDGER, "legacy").from_snapshot == 2

    # -- the command side ------------------------------------------------------------------
    def test_handle_decides_appends_and_rejects(self, store: EventStore) -> None:
        repo = Repository(store)
        r = repo.handle(LEDGER, "h", Deposit(10), expected_version=0)
        assert r.version == 1
        with pytest.raises(DomainError) as err:
            repo.handle(LEDGER, "h", Withdraw(11))
        assert err.value.code == "insufficient_funds"
        with pytest.raises(ConcurrencyError):
            repo.handle(LEDGER, "h", Withdraw(1), expected_version=0)
        assert store.stream_version("ledger", "h") == 1
        first = repo.handle(LEDGER, "h", Withdraw(10), idempotency_key="cmd-1")
        again = repo.handle(LEDGER, "h", Withdraw(10), idempotency_key="cmd-1")
        assert again == first  # deciding again would have failed: balance is now 0
        assert repo.load(LEDGER, "h").state["balance"] == 0

    def test_schema_creation_is_idempotent(self, open_store: OpenStore) -> None:
        first = open_store()
        first.append("ledger", "s", 0, [deposited(1)])
        second = open_store()
        assert [e.data for e in second.read_stream("ledger", "s")] == [
            {"amount": 1, "currency": "EUR"}
        ]

    # -- crypto-shredding (hindsight.shredding) --------------------------------------------
    def stored_text(self, store: EventStore) -> bytes:
        """Everything the backend keeps on disk for `store`, as bytes to grep."""
        raise NotImplementedError("a backend's test class dumps what it stores")

    def key_reader(self, store: EventStore) -> KeyReader:
        raise NotImplementedError("a backend's test class opens its read-only key reader")

    @pytest.fixture
    def sealing(self, open_store: OpenStore) -> EventStore:
        return open_store(policy=PERSONS)

    def test_sealed_fields_are_stored_sealed_and_read_in_clear(self, sealing: EventStore) -> None:
        sealing.append("person", "p1", 0, [registered("Ada Quixotic", "ada@quixotic.example")])
        sealing.append("person", "p2", 0, [NewEvent("Moved", {"city": "Lyon"})])
        assert [e.data for e in sealing.read_stream("person", "p1")] == [
            {"name": "Ada Quixotic", "email": "ada@quixotic.example", "city": "Oslo"}
        ]
        (stored,) = sealing.stored().read_all(0, 10)[:1]
        assert is_sealed(stored.data["name"]) and is_sealed(stored.data["email"])
        assert stored.data["city"] == "Oslo"  # not personal data: not sealed
        assert b"Quixotic" not in self.stored_text(sealing)
        # no key for a subject with nothing to seal
        assert self.key_reader(sealing).keys(["person:p2"]) == {}
        assert self.key_reader(sealing).keys(["person:p1"])["person:p1"] is not None

    def test_an_erasing_event_destroys_the_key_for_every_read_after(
        self, sealing: EventStore, open_store: OpenStore
    ) -> None:
        sealing.append("person", "p1", 0, [registered("Ada Quixotic", "ada@quixotic.example")])
        result = sealing.append("person", "p1", 1, [NewEvent("Forgotten", {})])
        assert result.version == 2
        for store in (sealing, open_store(policy=PERSONS)):  # this process and another
            first = store.read_stream("person", "p1")[0]
            assert first.data == {"name": None, "email": None, "city": "Oslo"}
            assert store.read_all(0, 10)[0].data["name"] is None
        assert self.key_reader(sealing).keys(["person:p1"]) == {"person:p1": None}
        # the stored record is unchanged: the log is immutable, only the key is gone
        assert is_sealed(sealing.stored().read_all(0, 1)[0].data["name"])
        # personal data arriving for an erased subject is never kept
        sealing.append("person", "p1", 2, [registered("Ada Again", "again@quixotic.example")])
        assert sealing.read_stream("person", "p1", 3)[0].data["name"] is None
        assert b"Again" not in self.stored_text(sealing)

    def test_an_erasure_refused_by_its_version_destroys_nothing(self, sealing: EventStore) -> None:
        sealing.append("person", "p1", 0, [registered("Ada Quixotic", "ada@quixotic.example")])
        with pytest.raises(ConcurrencyError):
            sealing.append("person", "p1", 0, [NewEvent("Forgotten", {})])
        assert sealing.read_stream("person", "p1")[0].data["name"] == "Ada Quixotic"

    def test_a_subjects_snapshot_is_sealed_and_useless_once_erased(
        self, sealing: EventStore
    ) -> None:
        sealing.append("person", "p1", 0, [registered("Ada Quixotic", "ada@quixotic.example")])
        state = {"name": "Ada Quixotic", "visits": 3}
        sealing.save_snapshot(Snapshot("person", "p1", 1, 1, state))
        assert sealing.load_snapshot("person", "p1", 1).state == state  # type: ignore[union-attr]
        assert b"Quixotic" not in self.stored_text(sealing)
        sealing.append("person", "p1", 1, [NewEvent("Forgotten", {})])
        assert sealing.load_snapshot("person", "p1", 1) is None  # replay the events instead
        # an aggregate that is nobody's data keeps its snapshots in clear
        sealing.save_snapshot(Snapshot("ledger", "l1", 1, 1, {"balance": 5}))
        assert sealing.load_snapshot("ledger", "l1", 1).state == {"balance": 5}  # type: ignore[union-attr]

    def test_a_store_from_before_sealing_is_sealed_in_place(self, open_store: OpenStore) -> None:
        """`hindsight store seal`: clear values sealed in their rows, erasures already in the
        log applied (that subject's old values become null), clear snapshots dropped, the
        file compacted: no clear copy left; and running it again changes nothing."""
        old = open_store()  # the code before sealing: everything in clear
        old.append("person", "p1", 0, [registered("Ada Quixotic", "ada@quixotic.example")])
        old.append("person", "p2", 0, [registered("Bob Zanzibar", "bob@zanzibar.example")])
        old.append("person", "p2", 1, [NewEvent("Forgotten", {})])
        old.save_snapshot(Snapshot("person", "p1", 1, 1, {"name": "Ada Quixotic"}))
        assert b"Quixotic" in self.stored_text(old)
        new = open_store(policy=PERSONS)
        report = new.seal_in_place(batch=2)  # type: ignore[attr-defined]
        assert (report.sealed, report.erased, report.snapshots_dropped) == (2, 1, 1)
        for text in (b"Quixotic", b"Zanzibar", b"ada@quixotic"):
            assert text not in self.stored_text(new)
        assert new.read_stream("person", "p1")[0].data["name"] == "Ada Quixotic"
        assert new.read_stream("person", "p2")[0].data["name"] is None
        assert new.load_snapshot("person", "p1", 1) is None
        assert new.seal_in_place().sealed == 0  # type: ignore[attr-defined]
