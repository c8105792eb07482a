"""The faults, one function each. A case breaks one thing while traffic flows and returns when
the fault is over (the process or server is back): what happens next is the platform's job,
and the suite measures it. Notes say what was done, to whom, and what the platform showed."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from connectors import clients
from connectors.kafka_publisher import Deliveries
from connectors.kafka_topics import MAX_RECORD_BYTES
from entrypoints import bootstrap, cluster_job
from entrypoints.faults.deployment import Deployment
from hindsight.events import Envelope
from hindsight.topics import topic_name


@dataclass
class Observed:
    """What a case did and saw, for the report."""

    notes: list[str] = field(default_factory=list)
    dead_letters: set[bytes] = field(default_factory=set)  # originals the DLQ must hold
    log_must_say: dict[str, list[str]] = field(default_factory=dict)  # process -> phrases

    def note(self, text: str) -> None:
        self.notes.append(text)


@dataclass(frozen=True)
class Case:
    name: str
    what: str
    inject: Callable[[Deployment, Observed], None]


def _restores(d: Deployment) -> tuple[int, dict[str, object] | None]:
    """How many times the job has restored a checkpoint, and the latest restore."""
    try:
        stats = cluster_job.rest(d.s, f"/jobs/{d.job_id}/checkpoints")
    except Exception:  # noqa: BLE001 - a JobManager that is down answers nothing
        return 0, None
    return int(stats["counts"]["restored"]), stats["latest"].get("restored")


def _wait_job_recovered(d: Deployment, o: Observed, restores_before: int) -> None:
    """Until every task runs again and the JobManager reports the checkpoint it restored."""
    cluster_job.wait_running(d.s, d.job_id, timeout_s=240)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        count, latest = _restores(d)
        if count > restores_before and latest:
            o.note(f"job restored checkpoint {latest.get('id')} ({latest.get('external_path')})")
            return
        time.sleep(1)
    o.note(f"no checkpoint restored within 30 s: the job ({d.job_state()}) rode it out")


def server_killed(name: str, pause_s: float) -> Callable[[Deployment, Observed], None]:
    """`kill -9` a server the job depends on, start it again after `pause_s`, and wait until
    every task runs (reporting the checkpoint the job restored, if it had to)."""

    def inject(d: Deployment, o: Observed) -> None:
        before, _ = _restores(d)
        pid = d.kill_server(name)
        o.note(f"{name} (pid {pid}) killed -9")
        time.sleep(pause_s)
        d.start_server(name)
        o.note(f"{name} started again")
        _wait_job_recovered(d, o, before)

    return inject


def jobmanager_killed(d: Deployment, o: Observed) -> None:
    pid = d.kill_server("flink-jobmanager")
    o.note(f"JobManager (pid {pid}) killed -9; its job is gone with it (no HA)")
    time.sleep(2)
    d.start_server("flink-jobmanager")
    taskmanager = d.server("flink-taskmanager")
    deadline = time.monotonic() + 120
    while not _registered(taskmanager) and time.monotonic() < deadline:
        time.sleep(1)
    if not _registered(taskmanager):
        o.note("the TaskManager did not register with the new JobManager: restarted it")
        taskmanager.stop()
        d.start_server("flink-taskmanager")
    checkpoint = cluster_job.latest_checkpoint(d.s)
    d.submit()  # what a person types: `hindsight job submit`
    o.note(f"job submitted again as {d.job_id}, resuming from {checkpoint}")
    if checkpoint is None:
        raise AssertionError("no retained checkpoint to resume from")


def _registered(taskmanager: object) -> bool:
    try:
        return bool(taskmanager.registered())  # type: ignore[attr-defined]
    except Exception:  # noqa: BLE001 - a JobManager on its way up answers nothing yet
        return False


def server_down(name: str, seconds: float, sink: str) -> Callable[[Deployment, Observed], None]:
    def inject(d: Deployment, o: Observed) -> None:
        d.stop_server(name)
        o.note(f"{name} stopped for {seconds:.0f} s")
        time.sleep(seconds)
        d.start_server(name)
        o.note(f"{name} started again")
        o.log_must_say[sink] = ["unavailable", "available again"]

    return inject


def process_killed(name: str, pause_s: float = 1.0) -> Callable[[Deployment, Observed], None]:
    def inject(d: Deployment, o: Observed) -> None:
        pid = d.kill(name)
        o.note(f"{name} (pid {pid}) killed -9")
        time.sleep(pause_s)
        d.start(name)
        o.note(f"{name} started again")

    return inject


def hostile_input(d: Deployment, o: Observed) -> None:
    """Records no relay would write, straight onto the topic of the latest event's domain:
    each bad one must reach the dead-letter topic with its reason and bytes; re-sent and stale
    ones change nothing."""
    with bootstrap.store(d.s) as store:
        events = store.read_all(0, 10**7)
    domain = bootstrap.load_domain(d.s.domain)
    sample = events[-1].to_dict()
    topic = topic_name(domain.data_domain_of(events[-1].aggregate_type), d.s.kafka_topic_prefix)
    unknown_version = {**sample, "schema_version": 99}
    broken = json.loads(json.dumps(sample))
    broken["data"].pop(next(iter(broken["data"])))
    oversized = json.loads(json.dumps(sample))
    oversized["data"]["padding"] = "x" * (1024 * 1024 + 4096)
    bad = {
        "malformed JSON": b'{"event_type": "OrderPlaced", "data": {',
        "truncated record": json.dumps(sample).encode()[: len(json.dumps(sample)) // 2],
        "oversized record (>= 1 MiB)": json.dumps(oversized).encode(),
        "unknown schema version": json.dumps(unknown_version).encode(),
        "breaks its contract": json.dumps(broken).encode(),
    }
    # duplicates of stored events, and an older version after a newer one of one stream
    streams: dict[tuple[str, str], list[Envelope]] = {}
    for e in events:
        streams.setdefault((e.aggregate_type, e.aggregate_id), []).append(e)
    long = max(streams.values(), key=len)
    replays = [*events[-20:], long[-1], long[0], long[len(long) // 2]]
    producer = clients.kafka_producer(
        d.s.kafka_bootstrap, **{"message.max.bytes": MAX_RECORD_BYTES + 4096}
    )
    deliveries = Deliveries()
    for raw in bad.values():
        producer.produce(topic, raw, b"hostile", on_delivery=deliveries)
    for e in replays:  # each on its own domain's topic, keyed like the relay keys it
        where = topic_name(domain.data_domain_of(e.aggregate_type), d.s.kafka_topic_prefix)
        producer.produce(where, e.to_json(), e.aggregate_id.encode(), on_delivery=deliveries)
    assert producer.flush(30) == 0
    deliveries.check()
    o.dead_letters = set(bad.values())
    o.note(
        f"{len(bad)} bad records ({', '.join(bad)}) and {len(replays)} re-sent or stale "
        f"events on {topic}; {len(bad[next(k for k in bad if k.startswith('oversized'))])} "
        "bytes the largest"
    )


CASES: list[Case] = [
    Case(
        "taskmanager-killed",
        "TaskManager kill -9, started again: the job recovers from its checkpoint",
        server_killed("flink-taskmanager", pause_s=2),
    ),
    Case(
        "sink-elasticsearch-killed",
        "Elasticsearch sink worker kill -9 mid-flush, started again",
        process_killed("sink-elasticsearch"),
    ),
    Case(
        "sink-neo4j-killed",
        "Neo4j sink worker kill -9 mid-flush, started again",
        process_killed("sink-neo4j"),
    ),
    Case(
        "sink-postgres-killed",
        "PostgreSQL sink worker kill -9 mid-flush, started again",
        process_killed("sink-postgres"),
    ),
    Case(
        "relay-killed",
        "outbox relay kill -9 mid-batch, started again: republishes the unconfirmed batch",
        process_killed("relay"),
    ),
    Case(
        "elasticsearch-down",
        "Elasticsearch down for 30 s: the sink backs off, keeps its offsets, catches up",
        server_down("elasticsearch", 30, "sink-elasticsearch"),
    ),
    Case(
        "neo4j-down",
        "Neo4j down for 30 s: the sink backs off, keeps its offsets, catches up",
        server_down("neo4j", 30, "sink-neo4j"),
    ),
    Case(
        "postgres-down",
        "PostgreSQL down for 30 s: the sink backs off, keeps its offsets, catches up",
        server_down("postgres", 30, "sink-postgres"),
    ),
    Case(
        "kafka-killed",
        "Kafka broker kill -9, started again: relay, job and sinks reconnect",
        server_killed("kafka", pause_s=5),
    ),
    Case(
        "jobmanager-killed",
        "JobManager kill -9, started again; `hindsight job submit` resumes from the latest "
        "retained checkpoint",
        jobmanager_killed,
    ),
    Case(
        "hostile-input",
        "malformed, truncated, oversized, unknown-version and contract-breaking records, "
        "duplicates, stale versions",
        hostile_input,
    ),
]
BY_NAME = {c.name: c for c in CASES}


def dead_letter_originals(records: list[bytes]) -> list[bytes]:
    return [base64.b64decode(json.loads(r)["original"]) for r in records]
