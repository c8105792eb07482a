"""The projection job's own Java operators (jobs/java), compiled into one jar in the state dir.

Why a jar of our own: what a Python operator would do one Python/JVM crossing per record
(fanning a bundle out into records) runs as a chained Java operator instead. The jar is built
with the project's JDK 17 against the Flink jars of the installed apache-flink wheel, once per
source change, and joins the cluster's lib dir and the mini-cluster's `pipeline.jars`.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
from pathlib import Path

from hindsight.settings import REPO_ROOT

SOURCES = REPO_ROOT / "jobs" / "java"
JAR = "hindsight-job-operators.jar"


def ensure(home: Path, java17_home: Path, flink_lib: Path, connectors: Path) -> Path:
    """The operators' jar under `home`, (re)built with that JDK against the jars in
    `flink_lib` and `connectors` (the Kafka source's deserializer) when a source changed."""
    sources = sorted(SOURCES.rglob("*.java"))
    digest = hashlib.sha256(b"".join(p.read_bytes() for p in sources)).hexdigest()
    target = home / "lib" / "job-operators"
    jar, stamp = target / JAR, target / ".source.sha256"
    if jar.exists() and stamp.exists() and stamp.read_text() == digest:
        return jar
    jdk = java17_home / "bin"
    shutil.rmtree(target, ignore_errors=True)
    classes = target / "classes"
    classes.mkdir(parents=True)
    compiled = subprocess.run(
        [str(jdk / "javac"), "-nowarn", "--release", "17", "-cp", f"{flink_lib}/*:{connectors}/*",
         "-d", str(classes), *map(str, sources)],
        capture_output=True,
        text=True,
    )  # fmt: skip
    if compiled.returncode != 0:
        raise RuntimeError(f"compiling the job's Java operators failed:\n{compiled.stderr}")
    packed = subprocess.run(
        [str(jdk / "jar"), "--create", "--file", str(jar), "-C", str(classes), "."],
        capture_output=True,
        text=True,
    )
    if packed.returncode != 0:
        raise RuntimeError(f"packing {JAR} failed:\n{packed.stderr}")
    stamp.write_text(digest)
    return jar
