"""Run fault cases against one private deployment under live traffic and report each one:
recovered or not, seconds from the end of the fault until both read models equal the
reference projection of the event store again, events lost (stored but not on the log),
read-model elements lost, doubled or stale, and dead letters expected against found."""

from __future__ import annotations

import json
import time
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from confluent_kafka import TopicPartition
from rich.console import Console
from rich.table import Table

from connectors import clients
from entrypoints import bootstrap, figures, parity
from entrypoints.faults.cases import BY_NAME, Case, Observed, dead_letter_originals
from entrypoints.faults.deployment import Deployment
from hindsight.settings import Settings
from hindsight.topics import SINKS, dlq_topic
from pipelines.read_models import read_models

console = Console()


@dataclass
class Outcome:
    name: str
    recovered: bool
    recovery_s: float | None  # from the end of the fault (traffic may still be flowing)
    lost: int
    doubled: int
    stale: int
    dlq_expected: int
    dlq_found: int
    notes: list[str] = field(default_factory=list)
    after_traffic_s: float | None = None  # from the last command of the case's traffic

    @property
    def passed(self) -> bool:
        return (
            self.recovered
            and self.lost == self.doubled == self.stale == 0
            and self.dlq_found == self.dlq_expected
        )


@dataclass(frozen=True)
class Traffic:
    rate: float = 20.0  # commands per second through the service, during every case
    seconds: float = 15.0  # of traffic per case
    fault_at_s: float = 4.0  # into the traffic
    backlog: int = 1500  # commands written before the first case, as fast as they go


def run_suite(
    stack: Settings,
    names: Iterable[str],
    *,
    traffic: Traffic = Traffic(),
    timeout_s: float = 300.0,
    keep: bool = False,
) -> list[Outcome]:
    cases = [BY_NAME[n] for n in names]
    d = Deployment.create(stack)
    console.print(f"deployment {d.s.kafka_topic_prefix}: state in {d.s.home}")
    outcomes: list[Outcome] = []
    try:
        d.start_all()
        console.print(f"service, relay, sinks and job {d.job_id} running")
        backlog = d.traffic(traffic.backlog, rate=None, run="backlog")
        backlog.join()
        _raise_traffic_errors(d)
        started = time.monotonic()
        equal, _, examples = wait_for_parity(d, timeout_s)
        if not equal:
            raise RuntimeError(f"the backlog never reached the read models: {examples}")
        console.print(
            f"backlog of {traffic.backlog} commands projected ({time.monotonic() - started:.0f} s)"
        )
        for case in cases:
            console.rule(f"[bold]{case.name}: {case.what}")
            outcome = run_case(d, case, traffic, timeout_s)
            outcomes.append(outcome)
            for line in outcome.notes:
                console.print(f"  {line}")
    finally:
        d.stop_all()
        if not keep:
            d.cleanup()
    return outcomes


def run_case(d: Deployment, case: Case, traffic: Traffic, timeout_s: float) -> Outcome:
    observed = Observed()
    dlq_before = len(dead_letters(d))
    logs_before = {f"sink-{n}": len(d.log_of(f"sink-{n}")) for n in SINKS}
    sender = d.traffic(int(traffic.rate * traffic.seconds), traffic.rate, run=case.name)
    time.sleep(traffic.fault_at_s)
    injected = True
    try:
        case.inject(d, observed)
    except Exception as err:  # noqa: BLE001 - a fault that cannot be staged fails its case
        injected = False
        observed.note(f"the fault could not be staged: {type(err).__name__}: {err}")
    fault_end = time.monotonic()
    sender.join()
    traffic_end = time.monotonic()
    if d.traffic_errors:
        observed.note(f"traffic errors: {d.traffic_errors}")
    equal, result, examples = wait_for_parity(d, timeout_s)
    recovery_s = max(0.0, time.monotonic() - fault_end) if equal else None
    after_traffic_s = time.monotonic() - traffic_end if equal else None
    lost_events = events_missing_from_log(d)
    if lost_events:
        observed.note(f"{lost_events} stored events are not on the log")
    new = dead_letter_originals(dead_letters(d)[dlq_before:])
    missing = observed.dead_letters - set(new)
    if missing:
        observed.note(f"{len(missing)} bad records not in the dead-letter topic")
    for name, phrases in observed.log_must_say.items():
        log = d.log_of(name)[logs_before.get(name, 0) :]
        absent = [p for p in phrases if p not in log]
        if absent:
            equal = False
            observed.note(f"{name}'s log never said {absent}")
        else:
            observed.note(f"{name}'s log says: {', '.join(phrases)}")
    if examples:
        observed.note(f"differences: {examples[:5]}")
    return Outcome(
        name=case.name,
        recovered=injected and equal and not d.traffic_errors and not missing,
        recovery_s=round(recovery_s, 1) if recovery_s is not None else None,
        lost=result.lost + lost_events,
        doubled=result.doubled,
        stale=result.stale,
        dlq_expected=len(observed.dead_letters),
        dlq_found=len(new),
        notes=observed.notes,
        after_traffic_s=round(after_traffic_s, 1) if after_traffic_s is not None else None,
    )


def wait_for_parity(d: Deployment, timeout_s: float) -> tuple[bool, parity.Parity, list[str]]:
    """Until Elasticsearch, Neo4j and PostgreSQL equal the reference projection of the store
    (whose content is final: traffic has stopped), or the timeout."""
    expected = parity.expected_outputs(d.s)
    want_graph = parity.expected_graph(d.s, expected)
    specs = read_models(d.s.read_models).index_specs
    patterns = read_models(d.s.read_models).graph_patterns
    want_es = {(o.target, o.id): o.body for o in expected.values() if o.sink == "elasticsearch"}
    deadline = time.monotonic() + timeout_s
    while True:
        result = parity.compare_es(want_es, parity.es_documents(d.s, specs))
        if result.equal:
            got = parity.graph_snapshot(d.s, patterns, d.s.neo4j_label_prefix)
            result += parity.compare_graphs(want_graph, got)
        if result.equal:
            result += parity.table_parity(d.s, expected)
        if result.equal or time.monotonic() > deadline:
            return result.equal, result, result.examples
        time.sleep(2)


def events_missing_from_log(d: Deployment) -> int:
    """Stored events whose id is on none of the deployment's event topics."""
    with bootstrap.store(d.s) as store:
        stored = {e.event_id for e in store.read_all(0, 10**7)}
    prefix = d.s.kafka_topic_prefix
    on_log = set()
    for raw in _read_topics(d, lambda t: t.startswith(f"{prefix}.") and t.endswith(".events")):
        try:
            on_log.add(json.loads(raw)["event_id"])
        except (ValueError, KeyError, TypeError):
            continue
    return len(stored - on_log)


def dead_letters(d: Deployment) -> list[bytes]:
    return _read_topics(d, lambda t: t == dlq_topic(d.s.kafka_topic_prefix))


def _read_topics(d: Deployment, wanted: Any) -> list[bytes]:
    """Every committed record of the matching topics, partition by partition to the end."""
    consumer = clients.kafka_consumer(d.s.kafka_bootstrap, "faults-reader")
    try:
        topics = consumer.list_topics(timeout=10).topics
        parts = [TopicPartition(t, p, 0) for t in topics if wanted(t) for p in topics[t].partitions]
        ends = {
            (tp.topic, tp.partition): consumer.get_watermark_offsets(tp, timeout=10)[1]
            for tp in parts
        }
        todo = {k for k, end in ends.items() if end > 0}
        consumer.assign([tp for tp in parts if (tp.topic, tp.partition) in todo])
        out: list[bytes] = []
        deadline = time.monotonic() + 60
        while todo and time.monotonic() < deadline:
            msg = consumer.poll(0.5)
            if msg is None:
                # read_committed stops short of aborted or open transactions' markers
                todo = {
                    k for k in todo if consumer.position([TopicPartition(*k)])[0].offset < ends[k]
                }
                continue
            if msg.error():
                continue
            out.append(msg.value())
            if msg.offset() + 1 >= ends[(msg.topic(), msg.partition())]:
                todo.discard((msg.topic(), msg.partition()))
        return out
    finally:
        consumer.close()


def _raise_traffic_errors(d: Deployment) -> None:
    if d.traffic_errors:
        raise RuntimeError(f"traffic failed: {d.traffic_errors}")


def report(outcomes: list[Outcome], home: Path, n: dict[str, object]) -> None:
    table = Table(title="fault cases: read models against the reference projection")
    table.add_column("case", no_wrap=True)
    for column in ("recovered", "recovery s", "after traffic s", "lost", "doubled", "stale",
                   "DLQ exp/found"):  # fmt: skip
        table.add_column(column, justify="right")
    for o in outcomes:
        table.add_row(
            o.name,
            "[green]yes" if o.passed else "[red]no",
            f"{o.recovery_s:.1f}" if o.recovery_s is not None else "-",
            f"{o.after_traffic_s:.1f}" if o.after_traffic_s is not None else "-",
            str(o.lost),
            str(o.doubled),
            str(o.stale),
            f"{o.dlq_expected}/{o.dlq_found}",
        )
    console.print(table)
    cases = [{**asdict(o), "recovered": o.passed} for o in outcomes]
    figures.write(home, "faults", n, {"cases": cases})
