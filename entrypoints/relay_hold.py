"""A short hold on the outbox relay, asked for by `hindsight rebuild` across processes.

To check a rebuilt generation exactly, the log must stand still for a few seconds: the new
job is stopped once it has folded everything the relay published, and then its read models
equal the reference projection of exactly those events. Commands are still accepted during
the hold (the store takes them); only their publication waits. The hold is a file in the
state dir holding its expiry, so a rebuild that dies never holds the relay for longer than
its time to live; the relay answers with the position it holds at.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

from hindsight.files import write_atomically
from hindsight.settings import Settings


class RelayHold:
    def __init__(self, s: Settings) -> None:
        base = s.home / "relay" / s.kafka_topic_prefix
        self.path: Path = base.with_suffix(".hold")
        self.ack: Path = base.with_suffix(".held")

    # ------------------------------------------------------------------ the relay's side

    def active(self) -> bool:
        try:
            return time.time() < float(self.path.read_text())
        except (OSError, ValueError):
            return False

    def acknowledge(self, position: int) -> None:
        if not self.ack.exists():
            write_atomically(self.ack, json.dumps({"position": position, "at": time.time()}))

    # ------------------------------------------------------------------ the asker's side

    def request(self, ttl_s: float) -> None:
        self.ack.unlink(missing_ok=True)
        write_atomically(self.path, str(time.time() + ttl_s))

    def held_at(self, timeout_s: float) -> int | None:
        """The position the relay holds at, once it says so; None if no relay answered."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            try:
                return int(json.loads(self.ack.read_text())["position"])
            except (OSError, ValueError, KeyError):
                time.sleep(0.1)
        return None

    def release(self) -> None:
        self.path.unlink(missing_ok=True)
        self.ack.unlink(missing_ok=True)
