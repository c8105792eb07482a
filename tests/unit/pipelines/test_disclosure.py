"""The PII guard where outputs leave a projection: what the contracts release passes, a field
mapped by mistake fails loudly, a withheld (null) field passes."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

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
    assert {o.sink for o in outputs.values()} == {"elasticsearch", "neo4j"}


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
