"""The validator accepts everything the workload generator produces, as the store writes it
(real event ids, positions and timestamps, serialised by Envelope.to_json as the relay does)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from commerce.domain import COMMERCE
from entrypoints import bootstrap
from entrypoints.workload import run_direct
from hindsight.contracts.validator import Invalid, validate
from hindsight.settings import Settings


def test_every_event_of_a_generated_workload_is_valid(tmp_path: Path) -> None:
    handler = bootstrap.command_handler(Settings(home=tmp_path))
    run_direct(handler, COMMERCE.workload(5, 1500), 1500, batch_size=1)
    events = handler.store.read_all(0, 10**6)
    assert len(events) >= 1500
    rejected = Counter()
    for event in events:
        result = validate(event.to_json())
        if isinstance(result, Invalid):
            rejected[f"{event.event_type}: {result}"] += 1
    assert rejected == Counter()
    assert len({e.event_type for e in events}) >= 12, "the workload exercises most event types"
