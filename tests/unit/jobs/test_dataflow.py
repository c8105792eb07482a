"""The job's Python operators, driven as Flink drives them, equal the reference projector.

Flink is stood in for by the smallest thing that keeps its contract: keyed state is a dict per
key, `hindsight.flink.Explode` is the field of the bundle, and every stage folds in order. Run
against a real cluster the same functions are held to the reference end to end
(tests/integration/jobs); this finds a wrong bundle field or a lost internal event in a second.
"""

from __future__ import annotations

import json
import random
from collections import defaultdict
from datetime import datetime
from typing import Any

from commerce.read.projections import PROJECTIONS, STAGES
from jobs.dataflow import (
    DEAD_FIELD,
    NEXT_FIELD,
    SINK_FIELD,
    FoldKeyedState,
    JobConfig,
    ValidateAndRoute,
    source_properties,
    stage_field,
    stopping_timestamp,
)
from pipelines.reference import ReferenceProjector
from tests.unit.pipelines.support import generated_history

SPEC = "commerce.read.projections:STAGES"


class _Counter:
    def inc(self, n: int = 1) -> None:
        pass


class _Metrics:
    def counter(self, _name: str) -> _Counter:
        return _Counter()


class _State:
    def __init__(self, states: dict[str, Any], keys: list[str]) -> None:
        self.states, self.keys = states, keys

    def value(self) -> Any:
        return self.states.get(self.keys[0])

    def update(self, value: Any) -> None:
        self.states[self.keys[0]] = value


class _Context:
    """RuntimeContext for one operator: its keyed state, keyed by the current key."""

    def __init__(self) -> None:
        self.states: dict[str, Any] = {}
        self.current: list[str] = [""]

    def get_metrics_group(self) -> _Metrics:
        return _Metrics()

    def get_state(self, _descriptor: Any) -> _State:
        return _State(self.states, self.current)


def _run(
    raws: list[bytes], **until: int | None
) -> tuple[dict[tuple[str, str, str], dict[str, Any]], list[str]]:
    validate = ValidateAndRoute("test-job", SPEC, **until)
    validate.open(_Context())
    folds, contexts = [], []
    for i in range(len(STAGES)):
        ctx = _Context()
        fold = FoldKeyedState(SPEC, i)
        fold.open(ctx)
        folds.append(fold)
        contexts.append(ctx)
    latest: dict[tuple[str, str, str], dict[str, Any]] = {}
    dead: list[str] = []

    def keep(change: str) -> None:
        c = json.loads(change)
        k = (c["sink"], c["target"], c["id"])
        if k not in latest or c["version"] > latest[k]["version"]:
            latest[k] = c

    for offset, raw in enumerate(raws):
        bundles = list(validate.process_element((raw, "t", 0, offset), None))
        assert len(bundles) <= 1  # one record out per record in
        for bundle in bundles:
            dead.extend(bundle[DEAD_FIELD])
            pending: dict[int, list[tuple[str, bytes]]] = defaultdict(list)
            for i in range(len(STAGES)):
                f = stage_field(i)  # Explode with a paired field: (key, payload) rows
                pending[i].extend(zip(bundle[f], bundle[f + 1], strict=True))
            for i, (fold, ctx) in enumerate(zip(folds, contexts, strict=True)):
                for routed in pending[i]:
                    ctx.current[0] = routed[0]  # the Java key selector: field 0
                    for out in fold.process_element(routed[1], None):
                        for field in SINK_FIELD.values():
                            for change in out[field]:
                                keep(change)
                        pairs = zip(out[NEXT_FIELD], out[NEXT_FIELD + 1], strict=True)
                        pending[i + 1].extend(pairs)
    return latest, dead


def test_the_operators_fold_a_history_exactly_as_the_reference() -> None:
    events = list(generated_history(3000))
    raws = [json.dumps(e).encode() for e in events]
    rnd = random.Random(3)
    duplicates = [raws[rnd.randrange(len(raws))] for _ in range(200)]  # at-least-once
    got, dead = _run(raws + duplicates + [b"{not json"])

    want = ReferenceProjector(PROJECTIONS).feed(events).outputs()
    assert {k: (c["version"], c["body"]) for k, c in got.items()} == {
        k: (o.version, o.body) for k, o in want.items()
    }
    assert len(dead) == 1 and json.loads(dead[0])["reason"]


def _ms(iso: str) -> int:
    return int(datetime.fromisoformat(iso).timestamp() * 1000)


def test_a_replay_as_of_a_moment_folds_exactly_the_events_recorded_by_then() -> None:
    events = list(generated_history(1500))
    raws = [json.dumps(e).encode() for e in events]
    at = events[900]  # a moment inside the history, and a position inside it
    by_time, _ = _run(raws, until_ms=_ms(at["recorded_at"]))
    want = [e for e in events if _ms(e["recorded_at"]) <= _ms(at["recorded_at"])]
    expected = ReferenceProjector(PROJECTIONS).feed(want).outputs()
    assert {k: c["version"] for k, c in by_time.items()} == {
        k: o.version for k, o in expected.items()
    }
    by_position, _ = _run(raws, until_ms=_ms(events[-1]["recorded_at"]),
                          until_position=at["position"])  # fmt: skip
    upto = ReferenceProjector(PROJECTIONS).feed(events[:901]).outputs()
    assert {k: c["version"] for k, c in by_position.items()} == {
        k: o.version for k, o in upto.items()
    }
    assert by_position != _run(raws)[0]  # the later events did change something


def test_only_a_replay_bounds_the_source() -> None:
    live = JobConfig(bootstrap="b:1", topic_pattern="p", projections=SPEC)
    assert stopping_timestamp(live) is None
    replay = JobConfig(bootstrap="b:1", topic_pattern="p", projections=SPEC, until_ms=1000)
    assert stopping_timestamp(replay) == 1001  # the moment itself is included
    # the job reads what the sink topics' transactions committed, never an aborted attempt
    assert source_properties(live)["isolation.level"] == "read_committed"
