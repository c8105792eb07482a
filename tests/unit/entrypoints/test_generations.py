"""A generation's names: its own topics, groups, indices and labels; the live event log."""

from __future__ import annotations

import pytest

from entrypoints import generations
from entrypoints.relay_hold import RelayHold
from hindsight.settings import Settings
from hindsight.topics import events_pattern, sink_topic


def test_the_first_generation_is_the_deployment_and_the_next_ones_have_names_of_their_own(
    tmp_path: object,
) -> None:
    s = Settings(kafka_topic_prefix="shop", es_alias_prefix="", neo4j_label_prefix="")
    assert generations.settings_of(s, 1) is s
    g2 = generations.settings_of(s, 2)
    assert g2.kafka_topic_prefix == "shop-gen2" and g2.events_prefix == "shop"
    assert sink_topic("neo4j", g2.kafka_topic_prefix) == "shop-gen2.sink.neo4j"
    assert events_pattern(g2.events_prefix) == events_pattern("shop")
    assert (g2.es_alias_prefix, g2.neo4j_label_prefix) == ("gen2-", "Gen2_")
    assert g2.postgres_table_prefix == "gen2_"
    g3 = generations.settings_of(s, 3)
    assert g3.kafka_topic_prefix == "shop-gen3" and g3.events_prefix == "shop"
    with pytest.raises(ValueError, match="count from 1"):
        generations.settings_of(s, 0)


def test_a_relay_hold_expires_and_is_answered_once(tmp_path: object) -> None:
    s = Settings(home=tmp_path)  # type: ignore[arg-type]
    hold = RelayHold(s)
    assert not hold.active()
    hold.request(ttl_s=30)
    assert hold.active() and hold.held_at(timeout_s=0.2) is None
    hold.acknowledge(41)
    hold.acknowledge(42)  # the first answer stands: the relay holds where it stopped
    assert hold.held_at(timeout_s=1) == 41
    hold.release()
    assert not hold.active()
    hold.request(ttl_s=-1)  # expired: a rebuild that died never holds the relay
    assert not hold.active()
