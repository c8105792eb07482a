"""Resolve a server's jars from Maven Central into the state dir, once per pom change.

All JVM versions are pinned in one file, ``localstack/jvm/pom.xml``; each server is a Maven
profile there, so each gets its own classpath (their dependency trees conflict).
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
from pathlib import Path

POM = Path(__file__).resolve().parent / "jvm" / "pom.xml"


def lib_dir(home: Path, profile: str) -> Path:
    return home / "lib" / profile


def ensure(home: Path, profile: str) -> Path:
    """Copy the profile's runtime dependencies into $HINDSIGHT_HOME/lib/<profile>."""
    target = lib_dir(home, profile)
    stamp = target / ".pom.sha256"
    digest = hashlib.sha256(POM.read_bytes() + profile.encode()).hexdigest()
    if stamp.exists() and stamp.read_text() == digest:
        return target
    if shutil.which("mvn") is None:
        raise RuntimeError("Maven (mvn) is needed to fetch the server jars; install maven")
    tmp = target.with_name(target.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    cmd = [
        "mvn",
        "-q",
        "-B",
        "-f",
        str(POM),
        f"-P{profile}",
        "dependency:copy-dependencies",
        f"-DoutputDirectory={tmp}",
        "-DincludeScope=runtime",
    ]
    result = subprocess.run(cmd, capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(
            f"could not fetch jars for {profile}:\n{result.stdout[-4000:]}{result.stderr[-4000:]}"
        )
    shutil.rmtree(target, ignore_errors=True)
    tmp.rename(target)
    stamp.write_text(digest)
    return target
