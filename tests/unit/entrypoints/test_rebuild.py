"""The rebuild's savepoint found on disk when the mini-cluster went away with its job."""

from pathlib import Path

import pytest

from entrypoints import rebuild


class _Finished:
    log = Path("job.log")


def _savepoint(target: Path, name: str, complete: bool = True) -> Path:
    d = target / name
    d.mkdir(parents=True)
    if complete:
        (d / "_metadata").write_bytes(b"x")
    return d


def test_the_stopped_jobs_own_complete_savepoint_is_taken(tmp_path: Path) -> None:
    jid = "e1c90b0123456789abcdef0123456789"
    _savepoint(tmp_path, "savepoint-aaaaaa-111111111111")  # another job's
    _savepoint(tmp_path, "savepoint-e1c90b-222222222222", complete=False)  # half written
    ours = _savepoint(tmp_path, "savepoint-e1c90b-333333333333")
    assert rebuild._savepoint_on_disk(tmp_path, jid, _Finished()) == ours.as_uri()  # type: ignore[arg-type]


def test_no_savepoint_is_a_clear_error(tmp_path: Path) -> None:
    _savepoint(tmp_path, "savepoint-e1c90b-222222222222", complete=False)
    with pytest.raises(rebuild.RebuildError, match="left no savepoint"):
        rebuild._savepoint_on_disk(tmp_path, "e1c90b" + "0" * 26, _Finished())  # type: ignore[arg-type]
