"""A delivery report is checked, not assumed: no error and no offset is not a write."""

from __future__ import annotations

import pytest

from connectors.kafka_publisher import Deliveries, PublishError


class Report:
    """What librdkafka hands a delivery callback, reduced to what the check reads."""

    def __init__(self, offset: int | None) -> None:
        self._offset = offset

    def offset(self) -> int | None:
        return self._offset

    def topic(self) -> str:
        return "t"

    def partition(self) -> int:
        return 0

    def key(self) -> bytes:
        return b"k"


def test_acknowledged_with_offsets_passes() -> None:
    d = Deliveries()
    for offset in (0, 1, 2):
        d(None, Report(offset))  # type: ignore[arg-type]
    d.check()
    assert (d.delivered, d.offsetless) == (3, 0)


@pytest.mark.parametrize("offset", [None, -1, -1001])
def test_a_report_without_an_offset_is_a_failed_delivery(offset: int | None) -> None:
    d = Deliveries()
    d(None, Report(5))  # type: ignore[arg-type]
    d(None, Report(offset))  # type: ignore[arg-type]
    with pytest.raises(PublishError, match="without an offset"):
        d.check()
    assert d.offsetless == 1


def test_an_error_is_a_failed_delivery() -> None:
    d = Deliveries()
    d("NOT_LEADER_OR_FOLLOWER", Report(-1))  # type: ignore[arg-type]
    with pytest.raises(PublishError, match="NOT_LEADER"):
        d.check()
    assert d.offsetless == 0
