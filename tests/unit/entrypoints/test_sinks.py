"""A sink worker that follows a rebuild's switch still ends on a signal (no servers: the
worker and the pointer are fakes of our own ports)."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from entrypoints import generations, sinks
from hindsight.settings import Settings


class _Worker:
    def __init__(self, signal_during_switch: bool) -> None:
        self.signal_during_switch = signal_during_switch
        self.signalled = False
        self._stopped = threading.Event()

    def stop(self) -> None:
        self._stopped.set()

    def run(self, until_idle_s: float | None = None) -> str:
        assert self._stopped.wait(5), "the follower never stopped the worker"
        self.signalled = self.signal_during_switch  # SIGTERM came as the switch was followed
        return "stats"


@pytest.mark.parametrize("signalled", [True, False])
def test_a_signal_while_following_a_switch_ends_the_run(
    monkeypatch: pytest.MonkeyPatch, signalled: bool
) -> None:
    live = iter([1, 2, 2, 3, 3, 3, 3, 3])
    monkeypatch.setattr(generations, "live_generation", lambda *_a, **_k: next(live))
    built: list[int] = []

    def build(_name: str, s: Settings) -> Any:
        built.append(len(built) + 1)
        # the second worker (after the switch) ends normally: a stop with no move
        return _Worker(signalled) if len(built) == 1 else _Done()

    monkeypatch.setattr(sinks, "build_worker", build)
    assert sinks.run_sink("postgres", Settings(), follow_every_s=0.01) == "stats"
    assert len(built) == (1 if signalled else 2)


class _Done:
    signalled = False

    def stop(self) -> None: ...

    def run(self, until_idle_s: float | None = None) -> str:
        return "stats"
