"""The workload driver's batch path: it stops near the events asked for, and a rerun of a
seed into a store that already holds its traffic is a clear error, not a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest

from entrypoints import bootstrap
from entrypoints.workload import Continuation, WorkloadError, first_written, run_direct
from hindsight.settings import Settings


@pytest.mark.parametrize("events", [1, 5, 1000])
def test_the_batch_path_stops_near_the_events_asked_for(tmp_path: Path, events: int) -> None:
    handler = bootstrap.command_handler(Settings(home=tmp_path))
    stats = run_direct(handler, handler.domain.workload(3, events), events, batch_size=500)
    assert stats.events == handler.store.last_position()
    assert events <= stats.events <= events * 1.1 + 10  # not a whole batch of 500 commands


def test_rerunning_a_seed_into_the_same_store_says_what_to_do(tmp_path: Path) -> None:
    handler = bootstrap.command_handler(Settings(home=tmp_path))
    run_direct(handler, handler.domain.workload(3, 100), 100)
    written = handler.store.last_position()
    with pytest.raises(WorkloadError, match="empty store"):
        run_direct(handler, handler.domain.workload(3, 100), 100)
    assert handler.store.last_position() == written  # the refused batch wrote nothing


def test_one_traffic_can_be_written_in_several_runs(tmp_path: Path) -> None:
    """Each run stops right after a batch: the next run on the same iterator continues the
    same traffic (no command pulled and dropped, which would refuse a later one)."""
    handler = bootstrap.command_handler(Settings(home=tmp_path))
    traffic = handler.domain.workload(3, 3000)
    first = run_direct(handler, traffic, 1500, batch_size=100)
    second = run_direct(handler, traffic, 1500, batch_size=100)
    assert first.events + second.events == handler.store.last_position() >= 3000


def test_another_seed_goes_into_a_store_beside_the_first(tmp_path: Path) -> None:
    handler = bootstrap.command_handler(Settings(home=tmp_path))
    first = run_direct(handler, handler.domain.workload(42, 500), 500)
    second = run_direct(handler, handler.domain.workload(77, 500), 500)  # its own ids
    assert first.events + second.events == handler.store.last_position()


def test_more_traffic_of_a_seed_goes_on_where_the_store_left_off(tmp_path: Path) -> None:
    handler = bootstrap.command_handler(Settings(home=tmp_path))
    domain = handler.domain
    where = Continuation.of(tmp_path, "sqlite.position", 42, handler.store.last_position())
    assert where.commands == 0
    stats = run_direct(handler, where.stream(domain, 42, 800), 800, batch_size=50)
    where.advance(stats.commands, handler.store.last_position())

    again = Continuation.of(tmp_path, "sqlite.position", 42, handler.store.last_position())
    assert (again.commands, again.scale) == (stats.commands, 800)
    more = run_direct(handler, again.stream(domain, 42, 5), 400, batch_size=50)  # no refusal
    assert stats.events + more.events == handler.store.last_position()
    # a store holding less than it did when the continuation was saved is a new store
    fresh = Continuation.of(tmp_path, "sqlite.position", 42, 10)
    assert fresh.commands == 0 and fresh.scale is None


def test_a_store_holding_a_seeds_traffic_without_a_record_of_how_far_says_what_to_do(
    tmp_path: Path,
) -> None:
    handler = bootstrap.command_handler(Settings(home=tmp_path))
    run_direct(handler, handler.domain.workload(42, 300), 300)  # no continuation recorded
    end = handler.store.last_position()
    seen = first_written(handler.domain, 42, handler.store)
    with pytest.raises(WorkloadError, match="another seed"):
        Continuation.of(tmp_path, "sqlite.position", 42, end, seen)
    # another seed's traffic is not in there: it starts at its beginning
    other = Continuation.of(tmp_path, "sqlite.position", 77, end,
                            first_written(handler.domain, 77, handler.store))  # fmt: skip
    assert other.commands == 0
