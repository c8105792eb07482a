"""The console's own arithmetic: events/s from sampled positions, dead letters' reasons."""

from __future__ import annotations

import json

from entrypoints.service import console


def test_rates_are_the_slope_between_samples_and_the_chart_fits_its_box() -> None:
    samples = iter([(0, 0), (500, 400), (1500, 900)])
    rates = console.Rates(lambda: next(samples))
    clock = iter([1000.0, 1005.0, 1010.0])
    real = console.time.time
    console.time.time = lambda: next(clock)  # type: ignore[assignment]
    try:
        for _ in range(3):
            rates.sample()
    finally:
        console.time.time = real  # type: ignore[assignment]
    chart = rates.chart(width=640, height=160)
    assert chart["now"] == (200, 100)  # (1500-500)/5 appended, (900-400)/5 visible
    assert chart["top"] == 200
    xs_ys = [tuple(map(float, p.split(","))) for p in chart["appended"].split()]
    assert all(0 <= x <= 640 and 0 <= y <= 160 for x, y in xs_ys)
    assert xs_ys[-1] == (640.0, 0.0)  # the newest, the highest: the top right corner


def test_a_dead_letters_reason_is_its_kind_from_the_header_or_the_record() -> None:
    assert console._reason(b"", [("reason", b"pii_leak: body.email")]) == "pii_leak"
    record = json.dumps({"reason": "unknown-event-type: OrderTeleported"}).encode()
    assert console._reason(record, None) == "unknown-event-type"
    assert console._reason(b"not json", None) == "unknown"
