"""A deployment refuses a job whose projections are not the versions it was built by."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipelines.model import Projection
from pipelines.versions import (
    VersionMismatch,
    check_and_record,
    projection_versions,
    recorded,
    versions_file,
)


def _projection(name: str, version: int = 1) -> Projection:
    return Projection(name, lambda e: [], lambda st, k, e: st, lambda k, st, v: [],
                      version=version)  # fmt: skip


def test_the_first_start_records_and_the_same_versions_pass(tmp_path: Path) -> None:
    path = versions_file(tmp_path, "hindsight")
    current = projection_versions([[_projection("orders")], [_projection("products", 3)]])
    assert current == {"orders": 1, "products": 3}
    check_and_record(path, current, "hindsight-projections")
    assert recorded(path) == current
    check_and_record(path, current, "hindsight-projections")  # again: no complaint


def test_a_changed_version_is_refused_with_the_way_out(tmp_path: Path) -> None:
    path = versions_file(tmp_path, "hindsight")
    check_and_record(path, {"orders": 1, "products": 1}, "job")
    with pytest.raises(VersionMismatch, match=r"orders 1 -> 2.*hindsight rebuild"):
        check_and_record(path, {"orders": 2, "products": 1}, "job")
    with pytest.raises(VersionMismatch, match="customers absent -> 1"):
        check_and_record(path, {"orders": 1, "products": 1, "customers": 1}, "job")
    assert recorded(path) == {"orders": 1, "products": 1}  # the record is not overwritten
