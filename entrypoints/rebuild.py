"""`hindsight rebuild`: a new generation of every read model, built beside the live one from
the whole log while the live job keeps running, then switched to without downtime.

1. build: the projection job of generation g+1 (entrypoints.generations names it) on a
   mini-cluster of its own, from the log's first record, with its own sink workers, until
   its position frontier in both stores reaches the log's end (the live job meanwhile
   carries the traffic on the cluster: its two slots are taken);
2. stop it with a savepoint (through the mini-cluster's REST API): the job commits its last
   transaction and its Kafka offsets, so the new read models hold exactly the events before
   those offsets, and stand still;
3. parity: those events' reference projection, element by element (every document, node and
   relationship) and as counts and a content hash per index and per label, which the record
   keeps; a difference stops the rebuild, the live read models untouched;
4. hand over: the live job is cancelled and generation g+1's job submitted to the cluster
   from the savepoint, and waited for until it has caught up with the log again;
5. switch: every public Elasticsearch alias in one `_aliases` call, then the Neo4j pointer
   (the query layer and the sink workers follow it). The old generation's read models stay
   until `hindsight rebuild drop G` (or `--drop-old`).

A rebuild killed halfway leaves its record `building`; the next `hindsight rebuild` deletes
what it wrote and starts again, and nothing was switched: the switch is the last step.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import signal
import socket
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from connectors import clients
from connectors.kafka_topics import delete_groups, ensure_topics, job_output_topics
from entrypoints import bootstrap, catchup, generations, parity
from entrypoints import cluster_job as cluster
from entrypoints.local_job import LocalJob
from entrypoints.read_positions import ReadModelPositions
from entrypoints.relay_hold import RelayHold
from entrypoints.sinks import build_sink, build_worker, output_guard
from hindsight.contracts.sealing import sealing_policy_for
from hindsight.files import write_atomically
from hindsight.plugins import load
from hindsight.settings import Settings
from hindsight.topics import SINKS, deployment_groups
from localstack import process
from pipelines.model import Output
from pipelines.read_models import read_models, rows_of
from pipelines.reference import ReferenceProjector
from pipelines.versions import versions_file

BUILDING, SWITCHED, FAILED, DROPPED = "building", "switched", "failed", "dropped"
HOLD_S = 60.0  # the longest the relay waits for a rebuild that went quiet
Progress = Callable[[str, int, int], None]


class RebuildError(RuntimeError):
    """A rebuild that cannot go on; the live read models are as they were."""


@dataclass
class Rebuild:
    generation: int
    replaces: int
    status: str
    started: str
    switched: str | None = None
    position: int = 0  # the frontier the parity was checked at
    events: int = 0  # events in the checked cut
    checked: int = 0  # elements compared
    digests: dict[str, dict[str, Any]] = field(default_factory=dict)
    savepoint: str | None = None


# ---------------------------------------------------------------------------- the registry


def _dir(s: Settings) -> Path:
    return s.home / "rebuilds" / s.kafka_topic_prefix


def _pid_file(s: Settings, generation: int) -> Path:
    return _dir(s) / f"gen{generation}-build.pid"


def _save(s: Settings, r: Rebuild) -> None:
    write_atomically(_dir(s) / f"gen{r.generation}.json", json.dumps(asdict(r), indent=2))


def rebuilds(s: Settings) -> list[Rebuild]:
    out = []
    for path in _dir(s).glob("gen*.json"):
        with contextlib.suppress(OSError, ValueError, TypeError):
            out.append(Rebuild(**json.loads(path.read_text())))
    return sorted(out, key=lambda r: r.generation)


def generations_known(s: Settings) -> list[int]:
    """Every generation with read models: the first, and each rebuild's not dropped."""
    built = [r.generation for r in rebuilds(s) if r.status != DROPPED]
    return sorted({generations.FIRST, *built})


# ---------------------------------------------------------------------------- dropping


def drop(s: Settings, generation: int, *, force: bool = False) -> None:
    """Delete generation `generation`'s read models, topics and groups; never the live one."""
    live = generations.live_generation(s)
    if generation == live and not force:
        raise RebuildError(f"generation {generation} is live; rebuild first, then drop the old one")
    gs = generations.settings_of(s, generation)
    for name in SINKS:
        sink = build_sink(name, gs)  # type: ignore[arg-type]
        try:
            sink.drop()  # type: ignore[attr-defined]
        finally:
            sink.close()
    admin = clients.kafka_admin(gs.kafka_bootstrap)  # held: its futures die with it
    topics = [t.name for t in job_output_topics(gs.kafka_topic_prefix, gs.kafka_partitions)]
    existing = set(admin.list_topics(timeout=10).topics)
    mine = [t for t in topics if t in existing]
    for future in (admin.delete_topics(mine) if mine else {}).values():
        future.result(30)
    delete_groups(admin, deployment_groups(gs.kafka_topic_prefix))
    versions_file(gs.home, gs.kafka_topic_prefix).unlink(missing_ok=True)
    for r in rebuilds(s):
        if r.generation == generation:
            r.status = DROPPED
            _save(s, r)


# ---------------------------------------------------------------------------- running one


def run(
    s: Settings,
    *,
    keep_old: bool = True,
    progress: Progress = lambda _what, _done, _total: None,
    timeout_s: float = 3600,
) -> Rebuild:
    """Build the next generation, check it, hand the job over and switch; the new record."""
    old = generations.live_generation(s)
    for stale in rebuilds(s):
        if stale.status in (BUILDING, FAILED) and stale.generation != old:
            progress(f"removing generation {stale.generation} (a rebuild that did not finish)",
                     0, 0)  # fmt: skip
            _stop_leftovers(s, stale)
            drop(s, stale.generation)
    # a generation's number is never used twice: Kafka deletes a dropped one's topics lazily
    new = max([old, *(r.generation for r in rebuilds(s))]) + 1
    gs = generations.settings_of(s, new)
    record = Rebuild(new, old, BUILDING, datetime.now(UTC).isoformat(timespec="seconds"))
    _save(s, record)
    ensure_topics(clients.kafka_admin(gs.kafka_bootstrap),
                  job_output_topics(gs.kafka_topic_prefix, gs.kafka_partitions))  # fmt: skip
    deadline = time.monotonic() + timeout_s
    ws = gs.model_copy(update={"sink_instance": "rebuild"})  # not the live workers' ids
    workers = [build_worker(n, ws) for n in SINKS]  # type: ignore[arg-type]
    threads = [threading.Thread(target=w.run, daemon=True) for w in workers]
    for t in threads:
        t.start()
    port = _free_port(s.host)
    job = LocalJob(gs, ["--rest-port", str(port)], _dir(s) / f"gen{new}-build.log")
    process.write_pid(_pid_file(s, new), job.proc.pid)  # a killed rebuild's leftover
    try:
        with bootstrap.store(s) as store:
            positions = _positions(gs, store)
            _caught_up(
                positions,
                store.last_position,
                job.state,
                deadline,
                lambda done, total: progress("building from the log", done, total),
            )
            progress("holding the relay for a moment; stopping the build with a savepoint", 0, 0)
            hold = RelayHold(s)
            hold.request(ttl_s=HOLD_S)
            try:
                held = hold.held_at(timeout_s=15)
                if held is None:
                    raise RebuildError(
                        "no relay answered the hold: start it (`make relay`) so the new "
                        "generation can catch up with the log"
                    )
                _caught_up(positions, lambda: held, job.state, deadline, lambda _d, _t: None)
                record.savepoint = _stop_with_savepoint(s, port, job, deadline)
            finally:
                hold.release()
            record.position = held
            while not all(catchup.drained(gs, n) for n in SINKS):
                _before(deadline, "the sink workers did not drain the rebuild's topics")
                time.sleep(0.5)
            progress("checking parity against the reference", 0, 0)
            _check(s, gs, record, store, held)
            _save(s, record)
            progress(f"handing the job over (generation {old} -> {new})", 0, 0)
            _hand_over(s, old, gs, record.savepoint)
            _caught_up(
                positions,
                store.last_position,
                lambda: "RUNNING",
                deadline,
                lambda done, total: progress("catching up on the cluster", done, total),
            )
        generations.switch(s, new)
        record.status, record.switched = SWITCHED, datetime.now(UTC).isoformat(timespec="seconds")
        _save(s, record)
    except BaseException:
        if record.status == BUILDING:
            record.status = FAILED
            _save(s, record)
        raise
    finally:
        job.stop()
        _pid_file(s, new).unlink(missing_ok=True)
        for w in workers:
            w.stop()
        for t in threads:
            t.join(60)
    if not keep_old:
        drop(s, old)
    return record


def _stop_leftovers(s: Settings, stale: Rebuild) -> None:
    """What a killed rebuild left running: its mini-cluster (by the pid it recorded, a
    process group of its own) and, if it got that far, its job on the cluster."""
    pid = process.read_pid(_pid_file(s, stale.generation))
    if pid is not None and process.alive(pid):  # the same process, not a reused pid
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pid.pid, signal.SIGKILL)
    _pid_file(s, stale.generation).unlink(missing_ok=True)
    gs = generations.settings_of(s, stale.generation)
    with contextlib.suppress(OSError):  # no cluster here: nothing of it runs there either
        for j in cluster.running_jobs(gs):
            cluster.rest(gs, f"/jobs/{j['jid']}", method="PATCH")


def _before(deadline: float, what: str) -> None:
    if time.monotonic() > deadline:
        raise RebuildError(f"{what} in time")


def _free_port(host: str) -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def _positions(gs: Settings, store: Any) -> ReadModelPositions:
    es = clients.elasticsearch_for(gs)
    driver = clients.neo4j_for(gs)
    return ReadModelPositions(gs, store, lambda: es, lambda: driver)


def _caught_up(
    positions: ReadModelPositions,
    end: Callable[[], int],
    job_state: Callable[[], str],
    deadline: float,
    progress: Callable[[int, int], None],
) -> None:
    """Until both stores' frontier reaches the log's end as it was when the wait began (the
    log keeps growing under live traffic: a later end would be a moving target)."""
    target = end()
    while True:
        reached = min(positions.position(n) for n in SINKS)
        progress(min(reached, target), target)
        if reached >= target:
            return
        state = job_state()
        if state != "RUNNING":
            raise RebuildError(f"the rebuild's job is {state}")
        _before(deadline, "the new generation did not catch up")
        time.sleep(1)


def _stop_with_savepoint(s: Settings, port: int, job: LocalJob, deadline: float) -> str:
    """Stop the mini-cluster's job with a savepoint (its last transaction and offsets are
    committed first); the savepoint's path once the job's process has ended.

    A mini-cluster lives as long as its one job: once the stopped job has finished, its REST
    API may be gone before the savepoint's status was read (seen in CI). The process's exit
    code then says whether the stop succeeded, and the savepoint is the one on disk for this
    job (Flink names it `savepoint-<first six of the job id>-...`, `_metadata` written last).
    """
    target = s.home / "flink" / "savepoints"
    url = f"http://{s.host}:{port}"
    jobs = [j for j in cluster.rest_at(url, "/jobs/overview")["jobs"] if j["state"] == "RUNNING"]
    if not jobs:
        raise RebuildError(f"the rebuild's job is not running; see {job.log}")
    jid = jobs[0]["jid"]
    trigger = cluster.rest_at(
        url,
        f"/jobs/{jid}/stop",
        {"targetDirectory": target.as_uri(), "drain": False, "formatType": "CANONICAL"},
    )
    location: str | None = None
    while location is None and job.state() == "RUNNING":
        try:
            status = cluster.rest_at(url, f"/jobs/{jid}/savepoints/{trigger['request-id']}")
        except OSError:  # the mini-cluster is shutting down with its finished job
            status = {"status": {"id": "GONE"}}
        if status["status"]["id"] == "COMPLETED":
            operation = status["operation"]
            if "failure-cause" in operation:
                raise RebuildError(f"the savepoint failed: {operation['failure-cause']}")
            location = str(operation["location"])
            break
        _before(deadline, "the savepoint did not complete")
        time.sleep(0.5)
    while job.state() == "RUNNING":
        _before(deadline, "the rebuild's job did not stop")
        time.sleep(0.5)
    if job.state() != "FINISHED":
        raise RebuildError(f"the rebuild's job is {job.state()}")
    return location or _savepoint_on_disk(target, jid, job)


def _savepoint_on_disk(target: Path, jid: str, job: LocalJob) -> str:
    found = sorted(
        (d for d in target.glob(f"savepoint-{jid[:6]}-*") if (d / "_metadata").is_file()),
        key=lambda d: (d / "_metadata").stat().st_mtime,
    )
    if not found:
        raise RebuildError(
            f"the rebuild's job {jid} stopped but left no savepoint under {target}; see {job.log}"
        )
    return found[-1].as_uri()


def _check(s: Settings, gs: Settings, record: Rebuild, store: Any, held: int) -> None:
    """The new read models against the reference projection of exactly the events up to
    `held` (the log stood there while the job was stopped), element by element."""
    projector = ReferenceProjector([p for st in load(s.projections) for p in st],
                                   guard=output_guard(s))  # fmt: skip
    erasing = sealing_policy_for(tuple(s.contracts_dirs)).erasing
    position, events, erased_later = 0, 0, set()
    while batch := store.read_all(position, 5000):
        included = [e.to_dict() for e in batch if e.position <= held]
        projector.feed(included)
        events += len(included)
        erased_later |= {e.aggregate_id for e in batch
                         if e.position > held and e.event_type in erasing}  # fmt: skip
        position = batch[-1].position + 1
    expected = projector.outputs()
    result = parity.read_model_parity(gs, expected, skip=frozenset(erased_later))
    record.events, record.checked = events, result.checked
    record.digests = digests(gs, expected, frozenset(erased_later))
    if not result.equal:
        record.status = FAILED
        raise RebuildError(
            f"generation {record.generation} differs from the reference of the {events:,} "
            f"events up to position {held}: {result.lost} lost, {result.doubled} doubled, "
            f"{result.stale} stale (e.g. {'; '.join(result.examples[:3])}); nothing was switched"
        )


def digests(
    gs: Settings, expected: Mapping[Any, Output], skip: frozenset[str] = frozenset()
) -> dict[str, dict[str, Any]]:
    """Per index, graph label and table: how many elements, and a hash of their content, in
    the store and in the reference (equal when parity holds; kept in the record)."""
    models = read_models(gs.read_models)
    out: dict[str, dict[str, Any]] = {}
    docs = parity.es_documents(gs, models.index_specs)
    for alias in models.index_specs:
        mine = {k[1]: v for k, v in docs.items() if k[0] == alias and k[1] not in skip}
        want = {
            o.id: o.body
            for o in expected.values()
            if o.sink == "elasticsearch" and o.target == alias and o.id not in skip
        }
        out[f"index {alias}"] = _against(mine, want)
    graph = parity.graph_snapshot(gs, models.graph_patterns, gs.neo4j_label_prefix).without(skip)
    labels = sorted({label for label, _ in graph.nodes})
    for label in labels:
        nodes = {str(k[1]): v for k, v in graph.nodes.items() if k[0] == label}
        out[f"label {label}"] = {"count": len(nodes), "sha256": _hash(nodes)}
    rows = parity.table_rows(gs, models.table_specs)
    want_rows = rows_of(models.table_specs, expected.values(), skip)
    for target, spec in models.table_specs.items():
        mine = {k[1]: v for k, v in rows.items() if k[0] == target and k[1] not in skip}
        want = {k[1]: v for k, v in want_rows.items() if k[0] == target}
        out[f"table {spec.name}"] = _against(mine, want)
    return out


def _against(mine: Mapping[str, Any], want: Mapping[str, Any]) -> dict[str, Any]:
    """Count and hash of a store's elements beside the reference's."""
    return {"count": len(mine), "sha256": _hash(mine),
            "reference_count": len(want), "reference_sha256": _hash(want)}  # fmt: skip


def _hash(elements: Mapping[str, Any]) -> str:
    text = json.dumps(sorted(elements.items()), sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _hand_over(s: Settings, old: int, gs: Settings, savepoint: str | None) -> None:
    """Cancel the live job (its checkpoints are retained) and submit the new generation's
    job to the cluster from the rebuild's savepoint."""
    live = generations.settings_of(s, old)
    for j in cluster.running_jobs(live):
        cluster.cancel(live, j["jid"])
    job_id = cluster.submit(gs, from_savepoint=savepoint, env=gs.namespace_env())
    cluster.wait_running(gs, job_id)
