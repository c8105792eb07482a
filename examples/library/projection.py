"""The library's read side: the `books` search index, as one pure fold and its mapping.

A book's document depends on its own stream only, so the fold needs no joins and no internal
events: it runs in stage 0 next to commerce's projections. The platform supplies the rest
(deduplication per stream, a version that only grows, keyed state in Flink, the sinks).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from pipelines.model import Event, Output, Projection
from pipelines.read_models import IndexSpec

ES_BOOKS = "books"  # the alias; the contract's elasticsearch server lists it

BOOKS_INDEX = IndexSpec(
    alias=ES_BOOKS,
    properties={
        "book_id": {"type": "keyword"},
        "title": {"type": "text", "fields": {"keyword": {"type": "keyword"}}},
        "status": {"type": "keyword"},
        "times_lent": {"type": "long"},
        "version": {"type": "long"},
    },
)


@dataclass(frozen=True, slots=True)
class Shelf:
    title: str | None = None  # None until BookAdded is folded: nothing is rendered before
    status: str = "available"
    times_lent: int = 0


def fold(state: Shelf | None, key: str, event: Event) -> Shelf:
    """The projection itself: pure, and it never mutates `state` (Flink keeps the old one)."""
    s = state or Shelf()
    et, data = event["event_type"], event["data"]
    if et == "BookAdded":
        return replace(s, title=data["title"])
    if et == "BookLent":
        return replace(s, status="lent", times_lent=s.times_lent + 1)
    return replace(s, status="available")  # BookReturned


def render(key: str, s: Shelf, version: int) -> list[Output]:
    if s.title is None:
        return []
    doc = {
        "book_id": key,
        "title": s.title,
        "status": s.status,
        "times_lent": s.times_lent,
        "version": version,
    }
    return [Output("elasticsearch", ES_BOOKS, key, version, doc)]


BOOKS = Projection(
    name="books",
    route=lambda event: [(str(event["data"]["book_id"]), event)],
    fold=fold,
    render=render,
    event_types=frozenset({"BookAdded", "BookLent", "BookReturned"}),
)
