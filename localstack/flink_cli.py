"""`flink run -py` against the local standalone cluster, with the project's conf and lib."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from hindsight.settings import Settings
from localstack.servers.flink import FlinkLayout, flink_home


def run_python_job(
    settings: Settings,
    job: Path,
    job_args: list[str] | None = None,
    *,
    detached: bool = False,
    from_savepoint: str | None = None,
    parallelism: int | None = None,
    timeout_s: float | None = None,
    env: dict[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    """`env` adds to the client's environment (e.g. the HINDSIGHT_* of another deployment)."""
    layout = FlinkLayout(settings)
    if not (layout.conf / "config.yaml").exists():
        layout.write()
    argv = [
        str(flink_home() / "bin" / "flink"),
        "run",
        "-m",
        f"{settings.host}:{settings.flink_rest_port}",
    ]
    if detached:
        argv.append("--detached")
    if from_savepoint:
        argv += ["--fromSavepoint", from_savepoint]
    if parallelism:
        argv += ["-p", str(parallelism)]
    argv += ["-py", str(job), "-pyexec", sys.executable, "-pyclientexec", sys.executable]
    argv += job_args or []
    return subprocess.run(
        argv,
        env={**layout.env(), **(env or {})},
        capture_output=True,
        text=True,
        timeout=timeout_s,
        check=False,
    )
