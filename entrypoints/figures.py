"""Where every benchmark's figures land, and what says where they came from.

A figure in the README is only worth what can be traced back to a run: each benchmark writes
one file `$HINDSIGHT_HOME/bench/<name>.json` through `write`, which stamps it with the command,
the sizes measured (N), the date and the commit checked out, so `make bench-report` can print
the README's table from the files alone, and no row mixes two runs.
"""

from __future__ import annotations

import json
import os
import platform
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rich.console import Console

from hindsight.settings import REPO_ROOT


def commit(repo: Path = REPO_ROOT) -> str:
    """The commit checked out, read from `.git` itself (no git binary needed), or "unknown".

    Follows HEAD to a loose ref or to `packed-refs`; a worktree's `.git` file points at its
    git directory."""
    git = repo / ".git"
    if git.is_file():  # a worktree or submodule: "gitdir: <path>"
        git = (repo / git.read_text().split(":", 1)[1].strip()).resolve()
    try:
        head = (git / "HEAD").read_text().strip()
    except OSError:
        return "unknown"
    if not head.startswith("ref: "):
        return head  # detached
    ref = head[5:]
    loose = git / ref
    if loose.is_file():
        return loose.read_text().strip()
    packed = git / "packed-refs"
    if packed.is_file():
        for line in packed.read_text().splitlines():
            sha, _, name = line.partition(" ")
            if name == ref:
                return sha
    return "unknown"


def bench_dir(home: Path) -> Path:
    return home / "bench"


def write(home: Path, name: str, n: dict[str, Any], results: dict[str, Any]) -> Path:
    """`results` with the run's provenance: the command, N (what was measured, how much), the
    date, the commit and the machine. Returns the file written."""
    out = bench_dir(home) / f"{name}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    doc = {
        "benchmark": name,
        "command": " ".join([Path(sys.executable).name, *sys.argv]),
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "commit": commit(),
        "n": n,
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
            "load_avg_at_end": os.getloadavg(),
        },
        "results": results,
    }
    out.write_text(json.dumps(doc, indent=2, default=str) + "\n")
    Console().print(f"written: {out}")
    return out


def read(home: Path, name: str) -> dict[str, Any] | None:
    path = bench_dir(home) / f"{name}.json"
    if not path.is_file():
        return None
    doc: dict[str, Any] = json.loads(path.read_text())
    return doc if "results" in doc and "commit" in doc else None  # older files: no provenance
