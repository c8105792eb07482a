"""Test helpers: run commands against aggregates the way the store will, checking as we go
that decide never mutates its input and that every emitted event matches the catalogue."""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import Any

from commerce import AGGREGATES, EVENT_TYPES, aggregate_for
from commerce.base import Command
from commerce.flows import Step, plan
from commerce.schema import EVENTS, validate
from hindsight.aggregate import Aggregate
from hindsight.events import NewEvent


def decide(aggregate: Aggregate[Any], state: Any, command: Command) -> list[NewEvent]:
    """`aggregate.decide`, asserting the state is untouched and the events are well-formed."""
    before = copy.deepcopy(state)
    try:
        events = list(aggregate.decide(state, command))
    finally:
        assert state == before, "decide mutated the state it was given"
    for event in events:
        assert_conforms(event)
        assert EVENT_TYPES[event.event_type] == aggregate.aggregate_type
    return events


def assert_conforms(event: NewEvent) -> None:
    assert event.schema_version == EVENTS[event.event_type].schema_version
    errors = validate(event.event_type, event.schema_version, event.data)
    assert errors == [], f"{event.event_type}: {errors}"


def fold(aggregate: Aggregate[Any], events: Sequence[NewEvent]) -> Any:
    return aggregate.fold([(e.event_type, e.data) for e in events])


def given(*commands: Command) -> tuple[Any, list[NewEvent]]:
    """State and events after running `commands` (all on one aggregate) from the start."""
    aggregate = aggregate_for(commands[0])
    state, history = aggregate.initial(), []
    for command in commands:
        events = decide(aggregate, state, command)
        state = aggregate.fold([(e.event_type, e.data) for e in events], state)
        history += events
    return state, history


class MemoryStore:
    """A minimal in-memory event store that handles a command the way the command handler
    does: every step of its flow decided against the state the steps before it left, and
    all of them kept or none (a refusal anywhere writes nothing)."""

    def __init__(self) -> None:
        self.streams: dict[tuple[str, str], list[NewEvent]] = {}
        self.log: list[tuple[str, str, NewEvent]] = []

    def load(self, aggregate_type: str, aggregate_id: str) -> Any:
        return fold(
            AGGREGATES[aggregate_type], self.streams.get((aggregate_type, aggregate_id), [])
        )

    def handle(self, command: Command) -> list[tuple[Step, Sequence[NewEvent]]]:
        staged: dict[tuple[str, str], list[NewEvent]] = {}

        def state(aggregate_type: str, aggregate_id: str) -> Any:
            key = (aggregate_type, aggregate_id)
            return fold(AGGREGATES[aggregate_type], self.streams.get(key, []) + staged.get(key, []))

        done: list[tuple[Step, Sequence[NewEvent]]] = []
        for step in plan(command, self.load):
            aggregate = AGGREGATES[step.aggregate_type]
            events = decide(aggregate, state(step.aggregate_type, step.aggregate_id), step.command)
            staged.setdefault((step.aggregate_type, step.aggregate_id), []).extend(events)
            done.append((step, events))
        for step, events in done:  # every step decided: keep them all, in step order
            self.streams.setdefault((step.aggregate_type, step.aggregate_id), []).extend(events)
            self.log += [(step.aggregate_type, step.aggregate_id, e) for e in events]
        return done

    def event_types(self) -> list[str]:
        return [e.event_type for _, _, e in self.log]
