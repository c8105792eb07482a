"""The fault cases `make test` runs (the whole suite is `make faults`): a TaskManager killed
and each sink worker killed mid-flush, under live traffic through the service, must end with
Elasticsearch, Neo4j and PostgreSQL equal to the reference projection of the event store,
element by element, nothing lost on the log and nothing dead-lettered."""

from __future__ import annotations

import pytest

from entrypoints.faults.suite import Outcome, Traffic, run_suite
from hindsight.settings import Settings

CASES = [
    "taskmanager-killed",
    "sink-elasticsearch-killed",
    "sink-neo4j-killed",
    "sink-postgres-killed",
]


@pytest.fixture(scope="module")
def outcomes(settings: Settings) -> dict[str, Outcome]:
    results = run_suite(settings, CASES, traffic=Traffic(backlog=400, seconds=10))
    return {o.name: o for o in results}


@pytest.mark.parametrize("case", CASES)
def test_the_case_recovers_with_nothing_lost_doubled_or_stale(
    outcomes: dict[str, Outcome], case: str
) -> None:
    o = outcomes[case]
    summary = (o.lost, o.doubled, o.stale, o.dlq_found)
    assert o.passed, f"{case}: lost/doubled/stale/dead letters {summary}; {o.notes}"
    assert summary == (0, 0, 0, 0)
    assert o.recovery_s is not None
