"""Figures files say which run they come from: the commit read from `.git`, N, the date."""

from __future__ import annotations

import json
from pathlib import Path

from entrypoints import figures

SHA = "0123456789abcdef0123456789abcdef01234567"


def git_dir(root: Path, head: str) -> Path:
    (root / ".git" / "refs" / "heads").mkdir(parents=True)
    (root / ".git" / "HEAD").write_text(head)
    return root / ".git"


def test_commit_follows_head_to_a_loose_ref(tmp_path: Path) -> None:
    git = git_dir(tmp_path, "ref: refs/heads/main\n")
    (git / "refs" / "heads" / "main").write_text(SHA + "\n")
    assert figures.commit(tmp_path) == SHA


def test_commit_reads_packed_refs_and_detached_heads(tmp_path: Path) -> None:
    git = git_dir(tmp_path / "a", "ref: refs/heads/main\n")
    (git / "packed-refs").write_text(f"# pack-refs with: peeled\n{SHA} refs/heads/main\n")
    assert figures.commit(tmp_path / "a") == SHA
    git_dir(tmp_path / "b", SHA + "\n")
    assert figures.commit(tmp_path / "b") == SHA


def test_commit_without_a_repository_is_unknown(tmp_path: Path) -> None:
    assert figures.commit(tmp_path) == "unknown"


def test_this_checkout_has_a_commit() -> None:
    assert len(figures.commit()) == 40


def test_written_figures_carry_their_provenance(tmp_path: Path) -> None:
    path = figures.write(tmp_path, "thing", {"events": 10}, {"eps": 5})
    doc = json.loads(path.read_text())
    assert path == tmp_path / "bench" / "thing.json"
    assert (doc["n"], doc["results"], doc["benchmark"]) == ({"events": 10}, {"eps": 5}, "thing")
    assert doc["when"][:2] == "20" and doc["commit"] == figures.commit()
    assert figures.read(tmp_path, "thing") == doc


def test_a_file_without_provenance_is_not_read_as_figures(tmp_path: Path) -> None:
    (tmp_path / "bench").mkdir()
    (tmp_path / "bench" / "old.json").write_text('{"measured_at": "2026-01-01", "cases": []}')
    assert figures.read(tmp_path, "old") is None
    assert figures.read(tmp_path, "absent") is None
