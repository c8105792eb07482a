"""Neo4j Browser loads in headless Chromium, logs in, and a screenshot is kept as an artifact."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from playwright.sync_api import expect, sync_playwright

from hindsight.settings import Settings

pytestmark = pytest.mark.servers("neo4j")

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def test_browser_page_loads_and_connects(settings: Settings, tmp_path: Path) -> None:
    chromium = shutil.which("chromium")
    assert chromium, "Debian's chromium is not installed (make install)"
    artifacts = settings.home / "artifacts"
    artifacts.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 900})
            page.goto(settings.neo4j_browser_url, wait_until="networkidle", timeout=60_000)
            password = page.locator("input[data-testid='password']")
            expect(password).to_be_visible(timeout=60_000)
            page.locator("input[data-testid='username']").fill(settings.neo4j_user)
            password.fill(settings.neo4j_password)
            page.locator("button[data-testid='connect']").click()
            expect(page.get_by_text("You are connected as user", exact=False)).to_be_visible(
                timeout=30_000
            )
            page.screenshot(path=str(artifacts / "neo4j-browser.png"))
        finally:
            browser.close()
    assert (artifacts / "neo4j-browser.png").stat().st_size > 10_000
