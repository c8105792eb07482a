"""The reference projector: the oracle for Elasticsearch and Neo4j, chained like the job."""

from __future__ import annotations

from pathlib import Path

from commerce.read.projections import PROJECTIONS, STAGES
from entrypoints import bootstrap
from hindsight.events import Envelope
from hindsight.settings import Settings
from pipelines.reference import ReferenceProjector, bodies, project_store
from pipelines.runtime import INTERNAL, KeyState, route_all, step
from tests.unit.pipelines.support import generated_history


class ListStore:
    def __init__(self, events: list[Envelope]) -> None:
        self.events = events

    def read_all(self, from_position: int = 0, limit: int = 1000) -> list[Envelope]:
        return [e for e in self.events if e.position >= from_position][:limit]


def test_project_store_reads_every_page_in_position_order() -> None:
    history = generated_history()
    store = ListStore([Envelope.from_dict(e) for e in history])
    expected = ReferenceProjector(PROJECTIONS).feed(history).outputs()
    assert project_store(store, PROJECTIONS, page=97) == expected


def test_outputs_hold_the_latest_version_per_key_and_nothing_internal() -> None:
    projector = ReferenceProjector(PROJECTIONS).feed(generated_history())
    outputs = projector.outputs()
    assert all(sink != INTERNAL for sink, _, _ in outputs)
    for (sink, target, key), out in outputs.items():
        owner = {"orders": "orders", "order": "orders", "products": "products"}.get(target)
        if owner is not None:  # a doc's version is its key's version: the last fold rendered it
            assert out.version == projector.states[(owner, key)].version, (sink, target, key)
    assert set(bodies(outputs)[("elasticsearch", "orders", "order-s11-00000001")]) == {
        "version",
        "body",
    }


def test_internal_outputs_route_to_exactly_the_key_they_name() -> None:
    """The chaining contract the Flink job relies on: routing an internal output's body with
    the next stage's projections reaches (target, id) and nothing else."""
    by_name = {p.name: p for p in PROJECTIONS}
    stage_of = {p.name: i for i, stage in enumerate(STAGES) for p in stage}
    states: dict[tuple[str, str], KeyState] = {}
    checked = 0
    pending = list(generated_history())
    while pending:
        event = pending.pop(0)
        for name, key, routed in route_all(PROJECTIONS, event):
            states[(name, key)], outputs = step(by_name[name], states.get((name, key)), key, routed)
            for out in (o for o in outputs if o.sink == INTERNAL):
                next_stage = STAGES[stage_of[name] + 1]
                assert route_all(next_stage, out.body) == [(out.target, out.id, out.body)]
                assert route_all(PROJECTIONS, out.body) == [(out.target, out.id, out.body)]
                pending.append(out.body)
                checked += 1
    assert checked > 1000


def test_the_store_after_erasure_projects_no_name(tmp_path: Path) -> None:
    handler = bootstrap.command_handler(Settings(home=tmp_path))
    handler.execute_json(
        "RegisterCustomer",
        {
            "customer_id": "c1",
            "name": "Grace Hopper",
            "email": "grace@example.com",
            "street": "1 Navy Way",
            "city": "Arlington",
            "country": "US",
        },
    )
    assert (
        project_store(handler.store, PROJECTIONS)[("elasticsearch", "customers", "c1")].body["name"]
        == "Grace Hopper"
    )
    handler.execute_json("ForgetCustomer", {"customer_id": "c1"})
    outputs = project_store(handler.store, PROJECTIONS)
    assert outputs[("elasticsearch", "customers", "c1")].body == {
        "customer_id": "c1",
        "name": None,
        "city": "Arlington",
        "order_count": 0,
        "lifetime_value": 0,
        "last_order_at": None,
        "forgotten": True,
        "version": 2,
    }
    assert "grace" not in str(outputs).lower() and "Navy" not in str(outputs)
