"""The library example as a user would test theirs: the pure fold, the contract it honours, and
the plug-in's wiring, all without servers."""

from __future__ import annotations

from pathlib import Path

import pytest

from examples.library import plugin
from examples.library.domain import (
    LIBRARY,
    AddBook,
    BookNotAvailable,
    BookNotLent,
    InvalidCommand,
    LendBook,
    ReturnBook,
)
from examples.library.projection import BOOKS, BOOKS_INDEX, ES_BOOKS
from hindsight.commands import CommandHandler
from hindsight.contracts.model import DATA_PRODUCTS, load_all
from hindsight.contracts.policies import lint, load_policies
from hindsight.contracts.validator import Validator
from hindsight.eventstore.sqlite import SQLiteEventStore
from pipelines.read_models import read_models
from pipelines.reference import ReferenceProjector

LIBRARY_DIR = Path(plugin.__file__).parent
CONTRACTS = load_all(DATA_PRODUCTS, LIBRARY_DIR)


@pytest.fixture
def handler(tmp_path: Path) -> CommandHandler:
    validator = Validator(CONTRACTS)
    return CommandHandler(
        SQLiteEventStore(tmp_path / "library.sqlite"),
        LIBRARY,
        event_check=validator.validate_data,
    )


def books(handler: CommandHandler) -> dict[str, dict[str, object]]:
    events = (e.to_dict() for e in handler.store.read_all(0, 1000))
    outputs = ReferenceProjector([BOOKS]).feed(events).outputs()
    return {o.id: o.body for o in outputs.values()}


def test_a_book_is_indexed_with_its_loans(handler: CommandHandler) -> None:
    handler.execute(AddBook("b-1", "Dune"))
    handler.execute(LendBook("b-1", "m-7"))
    handler.execute(ReturnBook("b-1"))
    handler.execute(LendBook("b-1", "m-8"))
    assert books(handler) == {
        "b-1": {"book_id": "b-1", "title": "Dune", "status": "lent", "times_lent": 2, "version": 4}
    }


def test_replayed_events_change_nothing(handler: CommandHandler) -> None:
    handler.execute(AddBook("b-1", "Dune"))
    handler.execute(LendBook("b-1", "m-7"))
    events = [e.to_dict() for e in handler.store.read_all(0, 1000)]
    once = ReferenceProjector([BOOKS]).feed(events).outputs()
    twice = ReferenceProjector([BOOKS]).feed([*events, *events]).outputs()
    assert once == twice


def test_invariants_refuse_and_store_nothing(handler: CommandHandler) -> None:
    handler.execute(AddBook("b-1", "Dune"))
    with pytest.raises(BookNotLent):
        handler.execute(ReturnBook("b-1"))
    handler.execute(LendBook("b-1", "m-7"))
    with pytest.raises(BookNotAvailable):
        handler.execute(LendBook("b-1", "m-8"))
    with pytest.raises(InvalidCommand):
        LIBRARY.parse_command("AddBook", {"book_id": "b 2", "title": "x"})
    assert len(handler.store.read_all(0, 1000)) == 2


def test_every_event_is_covered_by_the_contract() -> None:
    contract = CONTRACTS["library"]
    assert {s.event_type for s in contract.events()} == BOOKS.event_types
    (index,) = contract.read_models()
    assert index.physical_name == ES_BOOKS
    assert {f.name for f in index.properties} == set(BOOKS_INDEX.properties)


def test_the_contract_complies_with_the_policies_against_the_plugin_ports() -> None:
    ports = read_models("examples.library.plugin").ports
    assert lint(CONTRACTS, load_policies(), ports) == []


def test_the_plugin_extends_commerce_rather_than_replacing_it() -> None:
    from commerce.read import projections as commerce_projections
    from commerce.read import read_models as commerce_models

    assert [p.name for p in plugin.STAGES[0]] == [
        *(p.name for p in commerce_projections.STAGES[0]),
        "books",
    ]
    assert plugin.STAGES[1:] == commerce_projections.STAGES[1:]
    models = read_models("examples.library.plugin")
    assert dict(models.index_specs) == {**commerce_models.INDEX_SPECS, ES_BOOKS: BOOKS_INDEX}
    assert dict(models.graph_patterns) == commerce_models.GRAPH_PATTERNS
