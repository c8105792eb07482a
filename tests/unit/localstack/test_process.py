"""The launcher stops only what it started: pid files carry the process start time."""

from __future__ import annotations

import json
import socket
import sys
from pathlib import Path

from localstack import process


def test_spawn_records_pid_and_stop_ends_the_process_group(tmp_path: Path) -> None:
    pid_file = tmp_path / "sleeper.pid"
    # the child spawns a grandchild: both must go when the group is stopped
    code = "import subprocess, time; subprocess.Popen(['sleep', '60']); time.sleep(60)"
    pid = process.spawn([sys.executable, "-c", code], log=tmp_path / "s.log", pid_file=pid_file)
    record = process.read_pid(pid_file)
    assert record is not None and record.pid == pid
    assert process.alive(record)
    assert process.stop(pid_file, timeout_s=5)
    assert not process.alive(record)
    assert not pid_file.exists()
    assert not process.stop(pid_file)  # nothing left to stop


def test_a_reused_pid_is_not_ours(tmp_path: Path) -> None:
    pid_file = tmp_path / "other.pid"
    # our own pid with a different start time: looks alive but is not the recorded process
    pid_file.write_text(json.dumps({"pid": process.os.getpid(), "start_ticks": 1}))
    record = process.read_pid(pid_file)
    assert not process.alive(record)
    assert not process.stop(pid_file)  # and it is never signalled


def test_garbage_pid_file_reads_as_none(tmp_path: Path) -> None:
    bad = tmp_path / "bad.pid"
    bad.write_text("not json")
    assert process.read_pid(bad) is None
    assert process.read_pid(tmp_path / "missing.pid") is None


def test_port_free_and_open() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        assert not process.port_free("127.0.0.1", port)
        assert process.port_open("127.0.0.1", port)
    assert process.port_free("127.0.0.1", port)
