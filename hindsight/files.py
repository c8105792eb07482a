"""State files the platform keeps in its state dir (registries, records, holds): written
whole or not at all, so a reader or a process killed mid-write never sees half a file."""

from __future__ import annotations

from pathlib import Path


def write_atomically(path: Path, text: str) -> None:
    """`text` into `path` by a rename over it (atomic on one file system); no fsync: these
    are records a restart can rebuild or do without, not the durable relay position."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text)
    tmp.replace(path)
