"""A replay's moment, name and prefixes (no servers): bad input says what is allowed, and no
replay's names can reach another's read models."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from entrypoints import bootstrap, replay
from entrypoints.workload import run_direct
from hindsight.events import parse_time, record_time_ms
from hindsight.settings import Settings

NAMES = st.from_regex(replay.NAME, fullmatch=True)


@pytest.fixture
def store_settings(tmp_path: Path) -> Settings:
    s = Settings(home=tmp_path, eventstore_backend="sqlite")
    handler = bootstrap.command_handler(s)
    run_direct(handler, handler.domain.workload(5, 60), 30, batch_size=10)
    handler.store.close()
    return s


@given(a=NAMES, b=NAMES)
def test_no_replay_prefix_starts_another(a: str, b: str) -> None:
    base = Settings(home=Path("/tmp"))
    sa, sb = replay.settings_for(base, a), replay.settings_for(base, b)
    if a != b:
        for field in ("es_alias_prefix", "neo4j_label_prefix", "postgres_table_prefix"):
            assert not getattr(sb, field).startswith(getattr(sa, field))
        assert not f"{sb.kafka_topic_prefix}.".startswith(f"{sa.kafka_topic_prefix}.")
    assert sa.kafka_topic_prefix != base.kafka_topic_prefix and sa.es_alias_prefix


def test_a_moment_by_time_or_by_position(store_settings: Settings) -> None:
    s = store_settings
    with bootstrap.store(s) as store:
        events = [e.to_dict() for e in store.read_all(0, 1000)]
    mid = events[len(events) // 2]
    by_position = replay.parse_moment(str(mid["position"]), s)
    assert [e["position"] for e in events if by_position.includes(e)] == list(
        range(1, mid["position"] + 1)
    )
    by_time = replay.parse_moment(mid["recorded_at"], s)
    kept = [e for e in events if by_time.includes(e)]
    # by the log's clock (epoch ms, as the relay stamps records): an event later by some
    # microseconds in the same millisecond is recorded by the moment too
    on_log = lambda e: record_time_ms(parse_time(e["recorded_at"]))  # noqa: E731
    assert mid in kept and all(on_log(e) <= on_log(mid) for e in kept)
    assert all(by_time.includes(e) == (on_log(e) <= on_log(mid)) for e in events)


def test_bad_input_names_the_value_and_what_is_allowed(store_settings: Settings) -> None:
    s = store_settings
    with bootstrap.store(s) as store:
        last = store.last_position()
    with pytest.raises(replay.ReplayError, match="'yesterday': not an ISO time"):
        replay.parse_moment("yesterday", s)
    future = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    with pytest.raises(replay.ReplayError, match="in the future"):
        replay.parse_moment(future, s)
    with pytest.raises(replay.ReplayError, match=f"positions 1..{last}"):
        replay.parse_moment(str(last + 1), s)
    with pytest.raises(replay.ReplayError, match="lowercase letters and digits"):
        replay.settings_for(s, "jan-2")
    with pytest.raises(replay.ReplayError, match="no complete replay of that name; complete: none"):
        replay.reading_at(s, "nothing")
