"""Read models as of a moment: the log replayed up to then into a private set of read models.

`hindsight replay --as-of <ISO time | position> --into NAME` runs the projection job bounded:
it reads the deployment's own event topics from their first record and stops each partition at
the moment (the relay stamps every record with its event's `recorded_at`; the validator cuts
exactly at the time and position asked for), writing sink topics of NAME's own; two sink
workers write them into Elasticsearch indices and Neo4j labels under NAME's prefixes, which
leave the live read models untouched. Queries take `--at NAME` / `at=NAME` and read there.

A replay is recorded under `<state dir>/replays/NAME.json`: `building` until both stores hold
everything the bounded job wrote, `complete` after; a killed replay stays `building` (never
reported complete) and `replay drop NAME` removes it with everything it wrote.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from confluent_kafka import TopicPartition

from connectors import clients
from connectors.kafka_topics import delete_groups, ensure_topics, job_output_topics
from entrypoints import bootstrap, catchup, generations, namespace
from entrypoints.local_job import LocalJob
from entrypoints.sinks import build_worker
from hindsight.events import parse_time, record_time_ms
from hindsight.files import write_atomically
from hindsight.plugins import load
from hindsight.settings import Settings
from hindsight.topics import SINKS, deployment_groups, events_pattern, projection_job_name
from pipelines.model import Output
from pipelines.read_models import read_models
from pipelines.reference import ReferenceProjector

# no separator inside a name, so no replay's prefixes start with another's: dropping `jan`
# must never match `jan2`'s indices, labels or topics
NAME = re.compile(r"^[a-z][a-z0-9]{0,30}$")
BUILDING, COMPLETE = "building", "complete"


class ReplayError(ValueError):
    """Bad input for a replay (a moment, a name): the message says what is allowed."""


@dataclass(frozen=True)
class Moment:
    """Where a replay stops: every event recorded by `until_ms` (epoch ms, inclusive), and
    if `position` is set, none after that global position."""

    until_ms: int
    position: int | None
    text: str  # as the user gave it

    def includes(self, event: dict[str, Any]) -> bool:
        recorded_ms = record_time_ms(parse_time(event["recorded_at"]))
        if self.position is not None and event["position"] > self.position:
            return False
        return recorded_ms <= self.until_ms


@dataclass
class Replay:
    name: str
    as_of: str
    until_ms: int
    position: int | None
    status: str
    created: str
    documents: int = 0
    nodes: int = 0


def parse_moment(text: str, s: Settings, now: datetime | None = None) -> Moment:
    """An ISO time (with an offset; none means UTC) or a global position of the log."""
    text = text.strip()
    with bootstrap.store(s) as store:
        last = store.last_position()
        if text.isdigit():
            position = int(text)
            if not 1 <= position <= last:
                raise ReplayError(f"--as-of {text}: position out of range; the log holds "
                                  f"positions 1..{last}")  # fmt: skip
            event = store.read_all(position, 1)[0]
            ms = record_time_ms(event.recorded_at)
            return Moment(ms, position, text)
    try:
        at = datetime.fromisoformat(text)
    except ValueError:
        raise ReplayError(f"--as-of {text!r}: not an ISO time (2026-12-01T10:00:00Z) nor a "
                          "position (a whole number)") from None  # fmt: skip
    at = at if at.tzinfo else at.replace(tzinfo=UTC)
    if at > (now or datetime.now(UTC)):
        raise ReplayError(f"--as-of {text}: in the future; the log holds only the past")
    return Moment(record_time_ms(at), None, text)


def settings_for(s: Settings, name: str) -> Settings:
    """NAME's private namespace: its own sink topics, job and groups (the event topics stay
    the live ones), indices and labels under prefixes the live read models never use."""
    if not NAME.match(name):
        raise ReplayError(f"replay name {name!r}: lowercase letters and digits, starting with "
                          "a letter, at most 31 characters")  # fmt: skip
    return s.model_copy(
        update={
            "kafka_topic_prefix": f"{s.kafka_topic_prefix}-asof-{name}",
            "es_alias_prefix": f"{s.es_alias_prefix}asof-{name}-",
            "neo4j_label_prefix": f"{s.neo4j_label_prefix}AsOf_{name}_",
            "postgres_table_prefix": f"{s.postgres_table_prefix}asof_{name}_",
        }
    )


# ---------------------------------------------------------------------------- the registry


def _dir(s: Settings) -> Path:
    return s.home / "replays" / s.kafka_topic_prefix


def _save(s: Settings, replay: Replay) -> None:
    write_atomically(_dir(s) / f"{replay.name}.json", json.dumps(asdict(replay), indent=2))


def get(s: Settings, name: str) -> Replay | None:
    try:
        return Replay(**json.loads((_dir(s) / f"{name}.json").read_text()))
    except (OSError, ValueError, TypeError):
        return None


def replays(s: Settings) -> list[Replay]:
    found = (get(s, p.stem) for p in sorted(_dir(s).glob("*.json")))
    return [r for r in found if r is not None]


def reading_at(s: Settings, name: str | None, stores: Sequence[str] = ("neo4j",)) -> Settings:
    """The settings a query of `stores` reads with: the live generation of the read models
    (entrypoints.generations: a query of one store asks that store, of both the pointer the
    switch sets last), or replay NAME's (complete)."""
    if name is None:
        return generations.live(s, stores[0] if len(stores) == 1 else "neo4j")
    replay = get(s, name)
    if replay is None or replay.status != COMPLETE:
        known = ", ".join(r.name for r in replays(s) if r.status == COMPLETE) or "none"
        raise ReplayError(f"at={name!r}: no complete replay of that name; complete: {known}")
    return settings_for(s, name)


def drop(s: Settings, name: str) -> None:
    if get(s, name) is None:
        raise ReplayError(f"no replay named {name!r}")
    rs = settings_for(s, name)
    namespace.wipe(rs)
    admin = clients.kafka_admin(rs.kafka_bootstrap)  # held: its futures die with it
    delete_groups(admin, deployment_groups(rs.kafka_topic_prefix))
    (_dir(s) / f"{name}.json").unlink(missing_ok=True)


# ---------------------------------------------------------------------------- running one


def expected_as_of(s: Settings, moment: Moment) -> dict[tuple[str, str, str], Output]:
    """The reference projection of exactly the events the moment includes."""
    projector = ReferenceProjector([p for stage in load(s.projections) for p in stage])
    with bootstrap.store(s) as store:
        position = 0
        while batch := store.read_all(position, 5000):
            projector.feed(e for e in (x.to_dict() for x in batch) if moment.includes(e))
            position = batch[-1].position + 1
    return projector.outputs()


def run(
    s: Settings,
    name: str,
    moment: Moment,
    progress: Callable[[str, int, int], None] = lambda _what, _done, _total: None,
    timeout_s: float = 1800,
) -> Replay:
    """Build replay NAME as of `moment` (the bounded job, both sinks) and return it complete.
    `progress(what, done, total)`: log records the job has read (its offsets, committed on
    checkpoints) of those up to the moment."""
    rs = settings_for(s, name)
    if get(s, name) is not None:
        raise ReplayError(f"replay name {name!r} is taken; drop it first "
                          f"(`hindsight replay drop {name}`) or choose another")  # fmt: skip
    replay = Replay(name, moment.text, moment.until_ms, moment.position, BUILDING,
                    datetime.now(UTC).isoformat(timespec="seconds"))  # fmt: skip
    _save(s, replay)
    ensure_topics(clients.kafka_admin(rs.kafka_bootstrap),
                  job_output_topics(rs.kafka_topic_prefix, rs.kafka_partitions))  # fmt: skip
    args = ["--events-prefix", s.kafka_topic_prefix, "--until-ms", str(moment.until_ms)]
    if moment.position is not None:
        args += ["--until-position", str(moment.position)]
    workers = [build_worker(n, rs) for n in SINKS]  # type: ignore[arg-type]
    threads = [threading.Thread(target=w.run, daemon=True) for w in workers]
    for t in threads:
        t.start()
    job = LocalJob(rs, args, _dir(s) / f"{name}-job.log")
    reading = _Reading(s, rs, moment)
    try:
        deadline = time.monotonic() + timeout_s
        while (state := job.state()) != "FINISHED":
            if state != "RUNNING" or time.monotonic() > deadline:
                raise RuntimeError(f"the replay job is {state}")
            progress("replaying the log", *reading.now())
            time.sleep(1)
        progress("the sink workers write the last changes", reading.total, reading.total)
        # the job's last transaction is committed: every sink group reaches the topic's end
        while not all(catchup.drained(rs, n) for n in SINKS):
            if time.monotonic() > deadline:
                raise RuntimeError("the sink workers did not drain the replay's topics")
            time.sleep(0.5)
    finally:
        reading.consumer.close()
        job.stop()
        for w in workers:
            w.stop()
        for t in threads:
            t.join(60)
    replay.documents, replay.nodes = _counts(rs)
    replay.status = COMPLETE
    _save(s, replay)
    return replay


def _counts(rs: Settings) -> tuple[int, int]:
    models = read_models(rs.read_models)
    es = clients.elasticsearch_for(rs)
    aliases = [spec.alias_name(rs.es_alias_prefix) for spec in models.index_specs.values()]
    es.indices.refresh(index=aliases, ignore_unavailable=True)
    docs = sum(int(es.count(index=a, ignore_unavailable=True)["count"]) for a in aliases)
    es.close()
    with clients.neo4j_for(rs) as driver:
        records, _, _ = driver.execute_query(
            "MATCH (n) WHERE any(l IN labels(n) WHERE l STARTS WITH $p) RETURN count(n) AS n",
            p=rs.neo4j_label_prefix,
        )
    return docs, int(records[0]["n"])


class _Reading:
    """How far the bounded job has read: its group's committed offsets on the live event
    topics against each partition's stopping offset (its first record after the moment)."""

    def __init__(self, s: Settings, rs: Settings, moment: Moment) -> None:
        group = projection_job_name(rs.kafka_topic_prefix)  # the bounded job's own group
        self.consumer = clients.kafka_consumer(s.kafka_bootstrap, group)
        topics = self.consumer.list_topics(timeout=10).topics
        pattern = re.compile(events_pattern(s.kafka_topic_prefix))
        self.parts = [TopicPartition(name, p, moment.until_ms + 1)
                      for name, meta in topics.items() if pattern.fullmatch(name)
                      for p in meta.partitions]  # fmt: skip
        stops = self.consumer.offsets_for_times(self.parts, timeout=10) if self.parts else []
        self.stop: dict[tuple[str, int], int] = {}
        for tp in stops:
            _, end = self.consumer.get_watermark_offsets(tp, timeout=10)
            self.stop[(tp.topic, tp.partition)] = tp.offset if tp.offset >= 0 else end
        self.total = sum(self.stop.values())

    def now(self) -> tuple[int, int]:
        parts = [TopicPartition(tp.topic, tp.partition) for tp in self.parts]
        done = 0
        for tp in self.consumer.committed(parts, timeout=10) if parts else []:
            if tp.offset >= 0:
                done += min(tp.offset, self.stop[(tp.topic, tp.partition)])
        return done, self.total
