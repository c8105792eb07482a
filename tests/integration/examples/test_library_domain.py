"""A second domain plugged in by settings alone, end to end on the real servers.

The library (examples/library) is written through the platform's own command handler, relayed
to Kafka by the platform's relay, projected by the platform's Flink job and written by its
Elasticsearch sink; nothing of the platform is edited or subclassed. The `books` index must
then equal what the reference projector makes of the stored history.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path

import pytest

from entrypoints import bootstrap
from entrypoints import namespace as ns
from examples.library import plugin
from examples.library.domain import AddBook, BookNotAvailable, LendBook, ReturnBook
from examples.library.projection import ES_BOOKS
from hindsight.commands import CommandHandler
from hindsight.settings import Settings
from pipelines.reference import ReferenceProjector
from tests.integration.jobs import e2e

pytestmark = pytest.mark.servers("kafka", "elasticsearch", "neo4j")

BOOKS = 12
LOANS = 40


@pytest.fixture
def library(tmp_path: Path, settings: Settings) -> Iterator[Settings]:
    """A private namespace whose settings name the library plug-in: what a user would put in
    HINDSIGHT_* (env_of passes them on to the job and the sink)."""
    s = ns.private(settings, tmp_path, "e2e").model_copy(
        update={
            "domain": "examples.library.domain:LIBRARY",
            "projections": "examples.library.plugin:STAGES",
            "read_models": "examples.library.plugin",
            "contracts_dirs": [e2e.REPO / "data-products", e2e.REPO / "examples" / "library"],
        }
    )
    yield s
    ns.wipe(s)


def lend_and_return(handler: CommandHandler, seed: int) -> None:
    rng = random.Random(seed)
    for i in range(BOOKS):
        handler.execute(AddBook(f"b-{i}", f"Book number {i}"))
    for _ in range(LOANS):
        book = f"b-{rng.randrange(BOOKS)}"
        try:
            handler.execute(LendBook(book, f"m-{rng.randrange(5)}"))
        except BookNotAvailable:  # refused: nothing stored, so return it instead
            handler.execute(ReturnBook(book))


def test_library_is_projected_end_to_end(library: Settings) -> None:
    s = library
    handler = bootstrap.command_handler(s)
    lend_and_return(handler, seed=7)
    events = handler.store.read_all(0, 10**6)
    reference = ReferenceProjector(plugin.PROJECTIONS).feed(e.to_dict() for e in events)
    want = e2e.expected_es(reference.outputs())
    assert len(want) == BOOKS and {alias for alias, _ in want} == {ES_BOOKS}

    relay = bootstrap.relay(s)
    assert relay.run(until_caught_up=True).published == len(events)
    relay.checkpoint.save(0)  # and once more: at-least-once delivery repeats events
    assert bootstrap.relay(s).run(until_caught_up=True).published == len(events)

    with e2e.running_job(s, "minicluster") as alive, ns.running_sinks(s, ["elasticsearch"]):

        def books_equal() -> tuple[bool, object]:
            got = e2e.es_documents(s, [ES_BOOKS])
            return got == want, f"{len(got)}/{len(want)} books"

        e2e.wait_until(books_equal, 300, "books equal to the reference", alive)
