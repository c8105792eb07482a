"""The one retry policy: its schedule, its budget, and what it does not retry."""

from __future__ import annotations

from itertools import islice

import pytest

from hindsight.retry import RetriesExhausted, RetryPolicy, with_backoff


def test_delays_grow_by_the_multiplier_up_to_the_cap() -> None:
    policy = RetryPolicy(initial_s=0.1, multiplier=3, max_backoff_s=1.0)
    assert [round(d, 3) for d in islice(policy.delays(), 5)] == [0.1, 0.3, 0.9, 1.0, 1.0]


def test_a_spent_budget_raises_what_the_caller_names_chained_to_the_last_error() -> None:
    def down() -> None:
        raise ConnectionError("refused")

    policy = RetryPolicy(initial_s=0.01, budget_s=0.05)
    with pytest.raises(RetriesExhausted, match="probe: still failing") as caught:
        with_backoff(down, policy, (ConnectionError,), what="probe")
    assert isinstance(caught.value.__cause__, ConnectionError)

    class Mine(Exception):
        pass

    with pytest.raises(Mine):
        with_backoff(down, policy, (ConnectionError,), what="probe", exhausted=Mine)


def test_retries_then_returns_and_counts_each_retry() -> None:
    calls: list[int] = []
    retries: list[int] = []

    def flaky() -> str:
        calls.append(1)
        if len(calls) < 3:
            raise TimeoutError
        return "ok"

    policy = RetryPolicy(initial_s=0.001, max_backoff_s=0.002, budget_s=None)
    assert (
        with_backoff(flaky, policy, (TimeoutError,), what="t", on_retry=lambda: retries.append(1))
        == "ok"
    )
    assert (len(calls), len(retries)) == (3, 2)
