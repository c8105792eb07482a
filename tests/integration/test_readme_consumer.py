"""The README's kafka-python consumer, run as written against events the real relay wrote
(gzip: kafka-python reads it without an extra codec package); only the topic is the test's."""

from __future__ import annotations

import contextlib
import io
from pathlib import Path

import pytest

from entrypoints import bootstrap, workload
from entrypoints import namespace as ns
from hindsight.settings import Settings
from hindsight.topics import topic_name

pytestmark = pytest.mark.servers("kafka")

README = Path(__file__).resolve().parents[2] / "README.md"


def snippet() -> str:
    text = README.read_text()
    block = text.split("<!-- snippet: kafka-python-consumer", 1)[1]
    return block.split("```python\n", 1)[1].split("```", 1)[0]


def test_the_readme_consumer_reads_the_relayed_events(tmp_path: Path, settings: Settings) -> None:
    s = ns.private(settings, tmp_path, "readme").model_copy(update={"eventstore_backend": "sqlite"})
    domain = bootstrap.load_domain(s.domain)
    handler = bootstrap.command_handler(s)
    workload.run_direct(handler, domain.workload(3, 400), 400, batch_size=100)
    bootstrap.relay(s).run(until_caught_up=True)
    with bootstrap.store(s) as store:
        orders = [e for e in store.read_all(0, 10_000) if e.aggregate_type == "order"]
    assert orders, "the workload placed no order"
    topic = topic_name(domain.data_domain_of("order"), s.kafka_topic_prefix)
    code = snippet().replace('"hindsight.orders.events"', repr(topic))
    out = io.StringIO()
    try:
        with contextlib.redirect_stdout(out):
            exec(compile(code, "README.md", "exec"), {})  # noqa: S102 - the README's own code
    finally:
        ns.wipe(s)
    printed = [(int(p), t, a) for p, t, a in (line.split() for line in out.getvalue().splitlines())]
    assert sorted(printed) == sorted((e.position, e.event_type, e.aggregate_id) for e in orders)
    by_order: dict[str, list[int]] = {}
    for position, _, order in printed:  # one order's events in their order (one partition)
        by_order.setdefault(order, []).append(position)
    assert all(p == sorted(p) for p in by_order.values())
