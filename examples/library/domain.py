"""The library's write side: one aggregate, `book`, in the data-mesh domain `library`.

Commands are frozen dataclasses checked on construction, so `decide` only judges them against
state. Errors subclass `DomainError` and are sorted into the three answers the service gives
(`invalid_errors` 422, `not_found_errors` 404, the rest 409) by the `Domain` below.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields, replace
from typing import Any, ClassVar

from hindsight.aggregate import Aggregate, DomainError
from hindsight.domain import Domain
from hindsight.events import NewEvent

BOOK = "book"
DOMAIN = "library"
ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$")  # = the contract's pattern


class LibraryError(DomainError):
    code = "library_error"


class InvalidCommand(LibraryError):
    code = "invalid_command"


class BookNotFound(LibraryError):
    code = "book_not_found"


class BookAlreadyAdded(LibraryError):
    code = "book_already_added"


class BookNotAvailable(LibraryError):
    code = "book_not_available"


class BookNotLent(LibraryError):
    code = "book_not_lent"


def _check_ids(command: Any, *names: str) -> None:
    for name in names:
        value = getattr(command, name)
        if not isinstance(value, str) or not ID_PATTERN.match(value):
            raise InvalidCommand(f"{type(command).__name__}: invalid {name}: {value!r}")


@dataclass(frozen=True)
class AddBook:
    aggregate_type: ClassVar[str] = BOOK  # what the CLI and the service document

    book_id: str
    title: str

    def __post_init__(self) -> None:
        _check_ids(self, "book_id")
        if not isinstance(self.title, str) or not self.title.strip():
            raise InvalidCommand("AddBook: invalid title: must be non-blank text")


@dataclass(frozen=True)
class LendBook:
    aggregate_type: ClassVar[str] = BOOK  # what the CLI and the service document

    book_id: str
    member_id: str  # pseudonymous member number, not a name: nothing personal in the log

    def __post_init__(self) -> None:
        _check_ids(self, "book_id", "member_id")


@dataclass(frozen=True)
class ReturnBook:
    aggregate_type: ClassVar[str] = BOOK  # what the CLI and the service document

    book_id: str

    def __post_init__(self) -> None:
        _check_ids(self, "book_id")


Command = AddBook | LendBook | ReturnBook
COMMANDS: dict[str, type] = {c.__name__: c for c in (AddBook, LendBook, ReturnBook)}


@dataclass(frozen=True)
class Book:
    book_id: str | None = None
    title: str | None = None
    lent_to: str | None = None


def decide(state: Book, command: Command) -> list[NewEvent]:
    if isinstance(command, AddBook):
        if state.book_id is not None:
            raise BookAlreadyAdded(f"book {command.book_id!r} is already in the catalogue")
        return [NewEvent("BookAdded", {"book_id": command.book_id, "title": command.title})]
    if state.book_id is None:
        raise BookNotFound(f"book {command.book_id!r} is not in the catalogue")
    if isinstance(command, LendBook):
        if state.lent_to is not None:
            raise BookNotAvailable(f"book {command.book_id!r} is already lent")
        return [NewEvent("BookLent", {"book_id": command.book_id, "member_id": command.member_id})]
    if state.lent_to is None:
        raise BookNotLent(f"book {command.book_id!r} is on the shelf")
    return [NewEvent("BookReturned", {"book_id": command.book_id, "member_id": state.lent_to})]


def evolve(state: Book, event_type: str, data: dict[str, Any]) -> Book:
    if event_type == "BookAdded":
        return Book(book_id=data["book_id"], title=data["title"])
    if event_type == "BookLent":
        return replace(state, lent_to=data["member_id"])
    if event_type == "BookReturned":
        return replace(state, lent_to=None)
    raise ValueError(f"a book cannot apply {event_type!r}")


def parse_command(name: str, payload: Mapping[str, Any]) -> Command:
    cls = COMMANDS.get(name)
    if cls is None:
        raise InvalidCommand(f"unknown command {name!r}; known: {', '.join(COMMANDS)}")
    expected = {f.name for f in fields(cls)}
    if not isinstance(payload, Mapping) or set(payload) != expected:
        raise InvalidCommand(f"{name} takes exactly {sorted(expected)}")
    command: Command = cls(**payload)
    return command


LIBRARY = Domain(
    name=DOMAIN,
    aggregates={BOOK: Aggregate(BOOK, DOMAIN, Book, decide, evolve)},
    commands=COMMANDS,
    parse_command=parse_command,
    target=lambda command: (BOOK, command.book_id),
    command_to_dict=asdict,
    invalid_errors=(InvalidCommand,),
    not_found_errors=(BookNotFound,),
)
