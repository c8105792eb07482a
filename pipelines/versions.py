"""Which version of each projection a deployment's keyed state and read models were built by.

A projection whose code changed folds differently: resuming its job over state (and sink
version guards) built by the old code would mix two projections in one read model, silently
and for good. So a deployment records the versions it was built with (`Projection.version`)
the first time its job starts, and every later start compares: a different version is refused
with the way out, `hindsight rebuild`, which builds a new generation beside the live one.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from pathlib import Path

from hindsight.files import write_atomically
from pipelines.model import Projection


class VersionMismatch(RuntimeError):
    """The code's projections are not the versions this deployment was built by."""


def projection_versions(stages: Iterable[Iterable[Projection]]) -> dict[str, int]:
    return {p.name: p.version for stage in stages for p in stage}


def versions_file(home: Path, deployment: str) -> Path:
    """Where a deployment (its Kafka prefix: job, sink topics, read models) keeps its record."""
    return home / "projection-versions" / f"{deployment}.json"


def recorded(path: Path) -> dict[str, int] | None:
    try:
        return {str(k): int(v) for k, v in json.loads(path.read_text()).items()}
    except (OSError, ValueError, AttributeError):
        return None


def check_and_record(path: Path, current: Mapping[str, int], deployment: str) -> None:
    """Record `current` for a new deployment; refuse one built by other versions."""
    before = recorded(path)
    if before is None:
        write_atomically(path, json.dumps(dict(current), indent=2, sort_keys=True))
        return
    if before != dict(current):
        changed = sorted(
            f"{name} {before.get(name, 'absent')} -> {current.get(name, 'absent')}"
            for name in before.keys() | current.keys()
            if before.get(name) != current.get(name)
        )
        raise VersionMismatch(
            f"the read models and state of {deployment} were built by other projection "
            f"versions ({'; '.join(changed)}); this job would fold over them and mix both. "
            "Run `hindsight rebuild`: it builds the new version beside the live one and "
            "switches readers when it has caught up"
        )
