"""`hindsight rebuild` on the real servers, under live traffic: the live job on the standalone
cluster, its sink workers as processes (following the pointer), commands written all along,
a query loop reading through the HTTP service; the rebuild builds generation 2 on a
mini-cluster, checks parity, hands the job over to the cluster and switches.

Then: the readers saw no error and never a smaller answer; both stores and the public alias
say generation 2; the live read models equal the reference projection of the whole log; the
old generation is kept until dropped, and the live one cannot be dropped."""

from __future__ import annotations

import multiprocessing
import os
import signal
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from connectors import clients
from entrypoints import bootstrap, generations, parity, rebuild, workload
from entrypoints import cluster_job as cluster
from entrypoints import namespace as ns
from entrypoints.read_positions import ReadModelPositions
from entrypoints.service.app import create_app
from hindsight.settings import Settings
from hindsight.topics import SINKS
from localstack import process

pytestmark = pytest.mark.servers(
    "kafka", "elasticsearch", "neo4j", "flink-jobmanager", "flink-taskmanager"
)

SEED_EVENTS = 2500


def _frontier(s: Settings) -> int:
    es, driver = clients.elasticsearch_for(s), clients.neo4j_for(s)
    try:
        with bootstrap.store(s) as store:
            positions = ReadModelPositions(s, store, lambda: es, lambda: driver)
            return min(positions.position(n) for n in SINKS)
    finally:
        es.close()
        driver.close()


def _wait_caught_up(s: Settings, timeout_s: float = 300) -> None:
    with bootstrap.store(s) as store:
        end = store.last_position()
    deadline = time.monotonic() + timeout_s
    while _frontier(generations.live(s)) < end:
        assert time.monotonic() < deadline, "the live read models did not catch up"
        time.sleep(1)


class _Readers:
    """A query loop over the service: every answer's status and size, through the switch."""

    def __init__(self, client: TestClient, customer: str) -> None:
        self.client, self.customer = client, customer
        self.errors: list[str] = []
        self.products: list[int] = []
        self.orders: list[int] = []
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._loop, daemon=True)

    def _loop(self) -> None:
        while not self.stop.is_set():
            reads = (("/search/products?size=100", self.products),
                     (f"/graph/customers/{self.customer}/orders", self.orders))  # fmt: skip
            for path, sizes in reads:
                answer = self.client.get(path)
                if answer.status_code != 200:
                    self.errors.append(f"{path}: {answer.status_code} {answer.text[:200]}")
                    continue
                body: Any = answer.json()
                sizes.append(body["total"] if isinstance(body, dict) else len(body))
            time.sleep(0.05)


@pytest.fixture
def traffic(live: Settings) -> Iterator[tuple[Settings, Iterator[Any]]]:
    s = live
    domain = bootstrap.load_domain(s.domain)
    assert domain.workload is not None
    commands = domain.workload(7, SEED_EVENTS * 3)
    workload.run_direct(bootstrap.command_handler(s), commands, SEED_EVENTS, batch_size=250)
    stop = threading.Event()
    relay = threading.Thread(
        target=lambda: bootstrap.relay(s).run(should_stop=stop.is_set, poll_interval_s=0.05),
        daemon=True,
    )
    relay.start()
    try:
        yield s, commands
    finally:
        for g in (1, 2, 3):
            for j in cluster.running_jobs(generations.settings_of(s, g)):
                cluster.cancel(s, j["jid"])
        stop.set()
        relay.join(30)
        for g in rebuild.generations_known(s):
            rebuild.drop(s, g, force=True)


def test_a_rebuild_under_live_traffic_switches_readers_atomically(
    traffic: tuple[Settings, Iterator[Any]],
) -> None:
    s, commands = traffic
    handler = bootstrap.command_handler(s)
    job_id = cluster.submit(s)
    cluster.wait_running(s, job_id)
    with ns.running_sinks(s):  # `hindsight sink run`: workers that follow the pointer
        _wait_caught_up(s)
        es = clients.elasticsearch_for(s)
        some = es.search(index=f"{s.es_alias_prefix}customers", size=1,
                         query={"range": {"order_count": {"gte": 1}}})["hits"]["hits"]  # fmt: skip
        es.close()
        readers = _Readers(TestClient(create_app(handler, s)), some[0]["_id"])
        readers.thread.start()
        writing = threading.Event()

        def write() -> None:
            while not writing.is_set():
                workload.run_direct(handler, commands, 8, batch_size=4)
                time.sleep(0.2)

        writer = threading.Thread(target=write, daemon=True)
        writer.start()
        try:
            record = rebuild.run(s, timeout_s=900)
            time.sleep(8)  # readers and writers go on past the switch (workers follow it)
        finally:
            writing.set()
            writer.join(30)
            readers.stop.set()
            readers.thread.join(30)
        assert record.status == rebuild.SWITCHED and record.generation == 2
        assert record.events > SEED_EVENTS and record.checked > 0
        assert all(d["sha256"] == d.get("reference_sha256", d["sha256"])
                   for d in record.digests.values())  # fmt: skip
        assert generations.live_generation(s, "neo4j") == 2
        assert generations.live_generation(s, "elasticsearch") == 2
        es = clients.elasticsearch_for(s)
        held = list(es.indices.get_alias(name=f"{s.es_alias_prefix}products"))
        es.close()
        assert held == [f"{s.es_alias_prefix}gen2-products-1"]
        # the readers: never an error, never fewer products nor orders than before
        assert not readers.errors, readers.errors[:5]
        assert len(readers.products) > 20 and len(readers.orders) > 20
        assert readers.products == sorted(readers.products)
        assert readers.orders == sorted(readers.orders)
        # nothing lost under the traffic: the live generation equals the whole log's reference
        _wait_caught_up(s)
        result = parity.read_model_parity(generations.live(s), parity.expected_outputs(s))
        assert result.equal, result.examples
    with pytest.raises(rebuild.RebuildError, match="generation 2 is live"):
        rebuild.drop(s, 2)
    rebuild.drop(s, 1)
    listed = {r.generation: r.status for r in rebuild.rebuilds(s)}
    assert listed == {2: rebuild.SWITCHED}


def test_a_rebuild_killed_halfway_switches_nothing_and_the_next_one_cleans_up_and_completes(
    traffic: tuple[Settings, Iterator[Any]],
) -> None:
    s, _ = traffic
    job_id = cluster.submit(s)
    cluster.wait_running(s, job_id)
    with ns.running_sinks(s):
        _wait_caught_up(s)
        # a rebuild in a process of its own, killed (SIGKILL: no clean-up runs) while it builds
        killed = multiprocessing.get_context("fork").Process(target=rebuild.run, args=(s,))
        killed.start()
        pid_file = s.home / "rebuilds" / s.kafka_topic_prefix / "gen2-build.pid"
        deadline = time.monotonic() + 120
        while process.read_pid(pid_file) is None:
            assert time.monotonic() < deadline and killed.is_alive(), "the build never started"
            time.sleep(0.5)
        time.sleep(10)  # its mini-cluster is up and folding
        os.kill(killed.pid, signal.SIGKILL)
        killed.join(30)
        leftover = process.read_pid(pid_file)
        assert process.alive(leftover)  # its mini-cluster outlives it
        assert [(r.generation, r.status) for r in rebuild.rebuilds(s)] == [(2, rebuild.BUILDING)]
        assert generations.live_generation(s, "neo4j") == 1  # nothing was switched
        assert generations.live_generation(s, "elasticsearch") == 1

        record = rebuild.run(s, timeout_s=900)
        assert (record.generation, record.status) == (3, rebuild.SWITCHED)
        assert not process.alive(leftover)  # stopped by the pid it recorded
        statuses = {r.generation: r.status for r in rebuild.rebuilds(s)}
        assert statuses == {2: rebuild.DROPPED, 3: rebuild.SWITCHED}
        assert generations.live_generation(s, "neo4j") == 3
        _wait_caught_up(s)
        result = parity.read_model_parity(generations.live(s), parity.expected_outputs(s))
        assert result.equal, result.examples
