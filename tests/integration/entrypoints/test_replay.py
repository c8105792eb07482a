"""Read models as of a moment, on the real servers: a replay equals the reference projection
of exactly the events up to that moment, in Elasticsearch and in Neo4j, beside the live ones.

Moments of one history: a time between two bursts of traffic, the position of an order's
first event (the replay must show the order as placed, not as it ended), and the positions just
before a price change and just before a cancellation (the old price, the order still open)."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest

from commerce.read.ports import ES_ORDERS, ES_PRODUCTS
from connectors import clients
from entrypoints import bootstrap, parity, replay
from entrypoints.workload import run_direct
from hindsight.settings import Settings

pytestmark = pytest.mark.servers("kafka", "elasticsearch", "neo4j")


def test_replays_as_of_a_time_and_a_position_equal_the_reference_up_to_it(live: Settings) -> None:
    s = live
    handler = bootstrap.command_handler(s)
    commands = handler.domain.workload(5, 1200)
    run_direct(handler, commands, 500, batch_size=20)
    time.sleep(0.05)
    between = datetime.now(UTC)
    time.sleep(0.05)
    run_direct(handler, commands, 500, batch_size=20)
    events = [e.to_dict() for e in handler.store.read_all(0, 10**6)]
    placed = next(e for e in events if e["event_type"] == "OrderPlaced" and any(
        later["aggregate_id"] == e["aggregate_id"] for later in events
        if later["position"] > e["position"]))  # fmt: skip
    price = next(e for e in events if e["event_type"] == "ProductPriceChanged")
    cancel = next(e for e in events if e["event_type"] == "OrderCancelled")
    assert bootstrap.relay(s).run(until_caught_up=True).published == len(events)

    at_time = replay.parse_moment(between.isoformat(), s)
    at_position = replay.parse_moment(str(placed["position"]), s)
    moments = {
        "mid": at_time,
        "placed": at_position,
        "beforeprice": replay.parse_moment(str(price["position"] - 1), s),
        "beforecancel": replay.parse_moment(str(cancel["position"] - 1), s),
    }
    for name, moment in moments.items():
        done = replay.run(s, name, moment, timeout_s=600)
        assert done.status == replay.COMPLETE and done.documents > 0
        want = replay.expected_as_of(s, moment)
        got = parity.read_model_parity(replay.settings_for(s, name), want)
        assert got.equal, got.examples
        assert got.checked > 0
    es = clients.elasticsearch_for(s)
    then = replay.settings_for(s, "beforeprice").es_alias_prefix
    product = es.get(index=f"{then}{ES_PRODUCTS}", id=price["aggregate_id"])["_source"]
    assert product["price"] == price["data"]["previous_price_cents"]  # the old price
    then = replay.settings_for(s, "beforecancel").es_alias_prefix
    order = es.get(index=f"{then}{ES_ORDERS}", id=cancel["aggregate_id"])["_source"]
    assert order["status"] != "cancelled"  # still open then
    es.close()
    # the two moments differ, and the later events are not in the earlier replay
    assert replay.expected_as_of(s, at_time) != replay.expected_as_of(
        s, replay.parse_moment(str(events[-1]["position"]), s)
    )
    listed = {r.name: r for r in replay.replays(s)}
    assert set(listed) == set(moments)
    assert listed["placed"].position == placed["position"]
    # dropping one takes everything it made, and nothing of another
    gone = replay.settings_for(s, "mid")
    replay.drop(s, "mid")
    admin = clients.kafka_admin(s.kafka_bootstrap)
    groups = {g.group_id for g in admin.list_consumer_groups(request_timeout=15).result().valid}
    assert not {g for g in groups if g.startswith(gone.kafka_topic_prefix)}
    topics = admin.list_topics(timeout=10).topics
    assert not [t for t in topics if t.startswith(f"{gone.kafka_topic_prefix}.")]
    assert [
        t for t in topics if t.startswith(f"{replay.settings_for(s, 'placed').kafka_topic_prefix}.")
    ]
    assert {r.name for r in replay.replays(s)} == set(moments) - {"mid"}
