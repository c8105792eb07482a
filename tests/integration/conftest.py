"""Integration tests need the real servers; a server that is down fails the test, never skips it.

A module says which servers it talks to with ``pytestmark = pytest.mark.servers("kafka", ...)``;
without the mark, every server of the stack must be up.
"""

from __future__ import annotations

import pytest

from hindsight.settings import Settings
from localstack import stack

_checked: dict[str, str] = {}


def _state(settings: Settings, name: str) -> str:
    if name not in _checked:
        (server,) = stack.select(settings, [name])[:1]
        _checked[name] = server.status().state
    return _checked[name]


@pytest.fixture(autouse=True)
def stack_up(request: pytest.FixtureRequest, settings: Settings) -> None:
    marker = request.node.get_closest_marker("servers")
    names = list(marker.args) if marker else [s.name for s in stack.servers(settings)]
    down = [f"{n} ({_state(settings, n)})" for n in names if _state(settings, n) != "up"]
    if down:
        pytest.fail(f"servers not up: {', '.join(down)}; run `make up` first", pytrace=False)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "/integration/" in str(item.fspath):
            item.add_marker(pytest.mark.integration)
