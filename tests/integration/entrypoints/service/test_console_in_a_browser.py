"""The console at / in headless Chromium, on the real servers: the page renders every part,
the search box finds a product the sink wrote, and a screenshot is kept under the state dir."""

from __future__ import annotations

import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn
from playwright.sync_api import expect, sync_playwright

from connectors.elasticsearch_sink import ElasticsearchSink
from entrypoints import bootstrap, parity
from entrypoints import namespace as ns
from entrypoints.service.app import create_app
from hindsight.settings import Settings
from pipelines.read_models import read_models

pytestmark = pytest.mark.servers("kafka", "elasticsearch", "neo4j", "flink-jobmanager")

CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update"]  # fmt: skip


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def served(tmp_path: Path, settings: Settings) -> Iterator[tuple[Settings, str]]:
    """A private deployment with two products in its search index, its service on a port."""
    s = ns.private(settings, tmp_path, "console").model_copy(
        update={"eventstore_backend": "sqlite"}
    )
    handler = bootstrap.command_handler(s)
    for pid, name, price in (("p1", "Copper Kettle", 4500), ("p2", "Chess Set", 13100)):
        body = {"product_id": pid, "name": name, "category": "kitchen", "price_cents": price}
        handler.execute_json("CreateProduct", body)
    outputs = [o for o in parity.expected_outputs(s).values() if o.sink == "elasticsearch"]
    sink = ElasticsearchSink(s.elasticsearch_url, specs=read_models(s.read_models).index_specs,
                             alias_prefix=s.es_alias_prefix, refresh="wait_for")  # fmt: skip
    sink.start()
    sink.write(outputs)
    sink.close()
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(handler, s), host="127.0.0.1", port=port,
                                           log_level="warning"))  # fmt: skip
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert time.monotonic() < deadline, "the service did not start"
        time.sleep(0.1)
    try:
        yield s, f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)
        ns.wipe(s)


def test_the_console_shows_the_platform_and_its_search_box_finds_products(
    served: tuple[Settings, str], settings: Settings
) -> None:
    s, url = served
    chromium = shutil.which("chromium")
    assert chromium, "Debian's chromium is not installed (make install)"
    shot = settings.home / "artifacts" / "console.png"
    shot.parent.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.goto(f"{url}/", wait_until="domcontentloaded", timeout=60_000)
            sections = ("Servers", "Projection job", "Read models", "Freshness against the SLAs",
                        "Dead letters", "Search products", "Where to look")  # fmt: skip
            for section in sections:
                expect(page.get_by_role("heading", name=section)).to_be_visible()
            servers = page.locator("#servers")
            for name in ("Kafka", "Elasticsearch", "Neo4j", "Flink"):
                row = servers.locator("tr", has_text=name)
                expect(row.locator("td.up")).to_have_text("up")  # the servers make up started
            expect(page.locator("#read-models")).to_contain_text("elasticsearch")
            page.get_by_label("search").fill("kettle")
            page.get_by_role("button", name="Search").click()
            results = page.locator("#results")
            expect(results).to_contain_text("Copper Kettle")
            expect(results).to_contain_text("45.00")  # money as money
            expect(results).not_to_contain_text("Chess Set")
            # by meaning: no word of the query is in a name, the nearest name comes first
            page.get_by_label("search").fill("boil water for tea")
            page.get_by_label("mode").select_option("semantic")
            page.get_by_role("button", name="Search").click()
            expect(page.locator("#search")).to_contain_text("(semantic)")
            expect(page.locator("#results tr").nth(1)).to_contain_text("Copper Kettle")
            page.screenshot(path=str(shot), full_page=True)
        finally:
            browser.close()
    assert shot.stat().st_size > 10_000
