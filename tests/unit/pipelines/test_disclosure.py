"""The PII guard where outputs leave a projection: what the contracts release passes, a field
mapped by mistake fails loudly, a withheld (null) field passes."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from commerce.read.projections import CUSTOMERS_PROJECTION, PROJECTIONS
from commerce.read.read_models import GRAPH_PATTERNS
from hindsight.contracts.model import default_contracts
from hindsight.contracts.policies import load_policies
from pipelines.disclosure import PiiLeak, guard_for
from pipelines.model import Output
from pipelines.reference import ReferenceProjector
from tests.unit.pipelines.support import generated_history

GUARD = guard_for(default_contracts(), load_policies(), GRAPH_PATTERNS)


def test_every_output_of_the_commerce_workload_passes() -> None:
    outputs = ReferenceProjector(PROJECTIONS, GUARD).feed(generated_history()).outputs()
    assert {o.sink for o in outputs.values()} == {"elasticsearch", "neo4j", "postgres"}


def test_a_projection_that_maps_a_withheld_field_fails_loudly() -> None:
    def leaky_render(key: str, state: Any, version: int) -> list[Output]:
        outputs = CUSTOMERS_PROJECTION.render(key, state, version)
        return [
            replace(o, body={**o.body, "email": "ada@example.com"})
            if o.target == "customers"
            else o
            for o in outputs
        ]

    leaky = replace(CUSTOMERS_PROJECTION, render=leaky_render)
    projections = [leaky if p is CUSTOMERS_PROJECTION else p for p in PROJECTIONS]
    with pytest.raises(PiiLeak, match="email"):
        ReferenceProjector(projections, GUARD).feed(generated_history())


def test_per_port_release_and_null_withholding() -> None:
    # name is released to Elasticsearch but not to Neo4j; a null stands for "withheld"
    es = Output("elasticsearch", "customers", "c1", 1, {"customer_id": "c1", "name": "Ada"})
    graph = Output("neo4j", "customer", "c1", 1, {"id": "c1", "name": "Ada"})
    withheld = Output("neo4j", "customer", "c1", 1, {"id": "c1", "name": None})
    assert GUARD.problem(es) is None and GUARD.problem(withheld) is None
    problem = GUARD.problem(graph)
    assert problem is not None and "name" in problem and "neo4j" in problem
    nested = Output("elasticsearch", "customers", "c1", 1, {"x": [{"street": "1 Main St"}]})
    assert "street" in (GUARD.problem(nested) or "")


def _every_key_with_a_value(body: Any) -> set[str]:
    """The guard's rule written the obvious way: every key, at any depth, whose value is not
    null (the guard's own walk is a faster form of it)."""
    if isinstance(body, dict):
        return {k for k, v in body.items() if v is not None}.union(
            *(_every_key_with_a_value(v) for v in body.values())
        )
    if isinstance(body, list):
        return set().union(*(_every_key_with_a_value(v) for v in body))
    return set()


_names = st.sampled_from(["street", "name", "email", "id", "lines", "x"])
_bodies = st.recursive(
    st.none() | st.integers() | st.text(max_size=3) | st.floats(allow_nan=False),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_names, inner, max_size=4),
    max_leaves=20,
)


@settings(max_examples=300, deadline=None)
@given(body=st.dictionaries(_names, _bodies, max_size=5))
def test_the_guard_finds_exactly_the_denied_keys_that_carry_a_value(body: dict[str, Any]) -> None:
    denied = frozenset({"street", "email"})
    out = Output("elasticsearch", "customers", "c1", 1, body)
    guard = type(GUARD)({("elasticsearch", "customers"): ("sales", denied)})
    leaked = sorted(_every_key_with_a_value(body) & denied)
    problem = guard.problem(out)
    if leaked:
        assert problem is not None and f"carries {', '.join(leaked)}," in problem
    else:
        assert problem is None
