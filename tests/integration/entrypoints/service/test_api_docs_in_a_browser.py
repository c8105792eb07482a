"""Swagger UI and ReDoc render in headless Chromium with every request off this machine
refused: their assets come from the service itself, so the pages work without internet."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from playwright.sync_api import Route, expect, sync_playwright

from hindsight.settings import Settings

pytestmark = pytest.mark.servers()  # none: the service on a SQLite store of its own

CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update"]  # fmt: skip


def _hindsight(home: Path, port: int, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "HINDSIGHT_HOME": str(home), "HINDSIGHT_SERVICE_PORT": str(port)}
    return subprocess.run([sys.executable, "-m", "entrypoints.cli", *args], env=env,
                          capture_output=True, text=True, timeout=120)  # fmt: skip


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.parametrize("page_path, shows", [("/docs", "/customers/register-customer"),
                                              ("/redoc", "register-customer")])  # fmt: skip
def test_the_api_docs_render_offline(
    settings: Settings, tmp_path: Path, page_path: str, shows: str
) -> None:
    chromium = shutil.which("chromium")
    assert chromium, "Debian's chromium is not installed (make install)"
    port = _free_port()
    started = _hindsight(tmp_path, port, "service", "start")
    assert started.returncode == 0, started.stdout + started.stderr
    refused: list[str] = []

    def local_only(route: Route) -> None:
        url = route.request.url
        if url.startswith(f"http://127.0.0.1:{port}/"):
            route.continue_()
        else:  # a CDN, a font service: what an offline machine cannot reach
            refused.append(url)
            route.abort()

    artifacts = settings.home / "artifacts"
    artifacts.mkdir(parents=True, exist_ok=True)
    shot = artifacts / f"api{page_path.replace('/', '-')}.png"
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
            try:
                page = browser.new_page(viewport={"width": 1400, "height": 900})
                page.route("**/*", local_only)
                page.goto(f"http://127.0.0.1:{port}{page_path}", wait_until="networkidle",
                          timeout=60_000)  # fmt: skip
                expect(page.get_by_text(shows, exact=False).first).to_be_visible(timeout=30_000)
                page.screenshot(path=str(shot))
            finally:
                browser.close()
    finally:
        _hindsight(tmp_path, port, "service", "stop")
    assert not [u for u in refused if u.endswith((".js", ".css"))], refused
    assert shot.stat().st_size > 10_000
