"""Event ids for the store: UUIDv7 (RFC 9562), time-ordered, made a batch at a time.

A random UUIDv4 lands on a random leaf of the unique event_id index, so a batch of 100 events
dirties ~100 index pages and every one of them is written to the WAL and fsynced at commit.
Time-ordered ids append to the right edge of the index: one or two pages per batch.

A batch shares its millisecond and one draw of random bits, and its ids count up from there
(RFC 9562 section 6.2, method 2, "monotonic random"): the ids of one append sort in position
order, and formatting one counter is half the cost of slicing fresh random bits per id. Two
batches in the same millisecond differ in 73 random bits (12 + 2 + 12 + 47).
"""

from __future__ import annotations

import os
import time

_VARIANT = "89ab"  # the nibble after the variant bits (10xx), from 2 random bits
_COUNTER_START_BITS = 47  # of the last 48: a batch of up to 2**47 ids never carries out


def new_event_ids(n: int) -> list[str]:
    """n UUIDv7 strings: 48-bit unix ms, version 7, random bits, a counter in the last 48."""
    ms = f"{(time.time_ns() // 1_000_000) & 0xFFFFFFFFFFFF:012x}"
    r = os.urandom(10)
    rand = r[:4].hex()
    head = f"{ms[:8]}-{ms[8:]}-7{rand[:3]}-{_VARIANT[int(rand[3], 16) & 3]}{rand[4:7]}-"
    start = int.from_bytes(r[4:], "big") >> (48 - _COUNTER_START_BITS)
    return [f"{head}{v:012x}" for v in range(start, start + n)]


def new_event_id() -> str:
    return new_event_ids(1)[0]
