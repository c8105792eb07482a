"""Event ids for the store: UUIDv7 (RFC 9562), time-ordered, made a batch at a time.

A random UUIDv4 lands on a random leaf of the unique event_id index, so a batch of 100 events
dirties ~100 index pages and every one of them is written to the WAL and fsynced at commit.
Time-ordered ids append to the right edge of the index: one or two pages per batch. Ids are
formatted from one urandom call per batch because per-id `uuid.UUID` objects cost more than
the insert itself on the batch path.
"""

from __future__ import annotations

import os
import time

_VARIANT = "89ab89ab89ab89ab"  # nibble with the RFC 4122 variant bits (10xx) from 4 random bits


def new_event_ids(n: int) -> list[str]:
    """n UUIDv7 strings: 48-bit unix ms, version 7, 74 random bits."""
    ms = f"{(time.time_ns() // 1_000_000) & 0xFFFFFFFFFFFF:012x}"
    prefix = f"{ms[:8]}-{ms[8:]}-7"
    raw = os.urandom(10 * n).hex()
    out = []
    for i in range(0, 20 * n, 20):
        r = raw[i : i + 20]
        out.append(f"{prefix}{r[0:3]}-{_VARIANT[int(r[3], 16)]}{r[4:7]}-{r[7:19]}")
    return out


def new_event_id() -> str:
    return new_event_ids(1)[0]
