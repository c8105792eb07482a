"""Read your own writes on the real servers: a command's answer carries its position, and a
query given it as `min_position` sees the change, in Elasticsearch and in Neo4j, every time.

The whole path runs: the relay (with its position marks) on a thread, the projection job on a
mini-cluster, both sink workers as processes; the service in-process over them. The positions
live in the stores, so they survive the workers' restart."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from entrypoints import bootstrap
from entrypoints import namespace as ns
from entrypoints.local_job import LocalJob
from entrypoints.service.app import create_app
from hindsight.naming import command_path
from hindsight.settings import REPO_ROOT, Settings

pytestmark = pytest.mark.servers("kafka", "elasticsearch", "neo4j")

ROUNDS = 6
DOMAIN = "commerce.domain:COMMERCE"


@pytest.fixture
def live(tmp_path: Path, settings: Settings) -> Iterator[Settings]:
    s = ns.private(settings, tmp_path, "ryw").model_copy(update={"eventstore_backend": "sqlite"})
    stop = threading.Event()
    relay = threading.Thread(
        target=lambda: bootstrap.relay(s).run(should_stop=stop.is_set, poll_interval_s=0.05),
        daemon=True,
    )
    relay.start()
    job = LocalJob(s, ["--checkpoint-interval-ms", "1000"], s.home / "minicluster.log")
    try:
        yield s
    finally:
        job.stop()
        stop.set()
        relay.join(30)
        ns.wipe(s)


def _post(client: TestClient, command: str, body: dict[str, Any]) -> int:
    """The command over HTTP; its answer's global position."""
    domain = bootstrap.load_domain(DOMAIN)
    cls = domain.commands[command]
    path = command_path(domain.data_domain_of(cls.aggregate_type), command)
    answer = client.post(path, json=body)
    assert answer.status_code == 200, answer.text
    position = answer.json()["position"]
    assert isinstance(position, int) and position > 0
    return position


def test_a_query_with_the_commands_position_sees_the_change_in_every_store(
    live: Settings,
) -> None:
    s = live
    handler = bootstrap.command_handler(s)
    client = TestClient(create_app(handler, s))
    tag = uuid.uuid4().hex[:6]
    customer, product = f"c-{tag}", f"p-{tag}"
    with ns.running_sinks(s):
        _post(client, "RegisterCustomer", {"customer_id": customer, "name": "Ada Lovelace",
              "email": f"ada-{tag}@example.org", "street": "1 Road", "city": "Lyon",
              "country": "FR"})  # fmt: skip
        at = _post(client, "CreateProduct", {"product_id": product, "name": f"Kettle{tag}",
                   "category": "kitchen", "price_cents": 1000})  # fmt: skip
        _post(client, "ReceiveStock", {"product_id": product, "quantity": 100})
        first = client.get("/search/products", params={"q": f"Kettle{tag}", "min_position": at})
        assert first.status_code == 200, first.text
        assert [h["product_id"] for h in first.json()["hits"]] == [product]
        for n in range(ROUNDS):
            price = 2000 + n
            at = _post(client, "ChangePrice", {"product_id": product, "price_cents": price})
            hits = client.get(
                "/search/products", params={"q": f"Kettle{tag}", "min_position": at}
            ).json()["hits"]
            assert [(h["product_id"], h["price"]) for h in hits] == [(product, price)], n
            order = f"o-{tag}-{n}"
            at = _post(client, "PlaceOrder", {"order_id": order, "customer_id": customer,
                       "lines": [{"product_id": product, "quantity": 1,
                                  "unit_price_cents": price}]})  # fmt: skip
            orders = client.get(f"/graph/customers/{customer}/orders", params={"min_position": at})
            assert orders.status_code == 200, orders.text
            assert order in {o["order_id"] for o in orders.json()}, n
            listed = client.get("/orders", params={"customer_id": customer, "min_position": at})
            assert listed.status_code == 200, listed.text
            assert listed.json()["items"][0]["order_id"] == order, n  # newest first
        status = client.get("/read-models", params={"min_position": at}).json()
        assert status["log_position"] >= at
        by_store = {r["store"]: r for r in status["read_models"]}
        assert set(by_store) == {"elasticsearch", "neo4j", "postgres"}
        assert all(r["position"] >= at for r in by_store.values())
        assert all(r["lag_events"] == status["log_position"] - r["position"]
                   for r in by_store.values())  # fmt: skip

    # the workers are gone: the positions stay in the stores, and a position past them waits
    # and then names the store behind, while one past the log's end is refused at once
    reached = client.get("/read-models").json()
    assert all(r["position"] >= at for r in reached["read_models"])
    end = reached["log_position"]
    beyond = client.get("/search/products", params={"min_position": end + 1})
    assert beyond.status_code == 422
    assert beyond.json()["field"] == "min_position" and str(end) in beyond.json()["message"]
    later = _post(client, "ChangePrice", {"product_id": product, "price_cents": 1})
    started = time.monotonic()
    behind = client.get(f"/graph/customers/{customer}/orders",
                        params={"min_position": later, "wait_s": 1})  # fmt: skip
    assert behind.status_code == 503 and time.monotonic() - started >= 1
    assert behind.json()["store"] == "neo4j" and behind.headers["retry-after"] == "1"

    # the workers back: the change arrives, and the CLI waits for it the same way
    with ns.running_sinks(s):
        cli = subprocess.run(
            [sys.executable, "-m", "entrypoints.cli", "status", "--min-position", str(later)],
            env={**ns.env_of(s), "HINDSIGHT_HOME": str(s.home),
                 "HINDSIGHT_EVENTSTORE_BACKEND": "sqlite"},
            cwd=REPO_ROOT, capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        assert cli.returncode == 0, cli.stdout + cli.stderr
        assert "elasticsearch" in cli.stdout and "neo4j" in cli.stdout
        hits = client.get("/search/products", params={"q": f"Kettle{tag}", "min_position": later})
        assert [h["price"] for h in hits.json()["hits"]] == [1]
