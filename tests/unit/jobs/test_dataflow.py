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
from typing import Any

from commerce.read.projections import PROJECTIONS, STAGES
from jobs.dataflow import (
    DEAD_FIELD,
    ES_FIELD,
    NEO4J_FIELD,
    NEXT_FIELD,
    FoldKeyedState,
    ValidateAndRoute,
    stage_field,
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


def _run(raws: list[bytes]) -> tuple[dict[tuple[str, str, str], dict[str, Any]], list[str]]:
    validate = ValidateAndRoute("test-job", SPEC)
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
                        for change in out[ES_FIELD]:
                            keep(change)
                        for change in out[NEO4J_FIELD]:
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
