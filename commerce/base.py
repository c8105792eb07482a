"""What every commerce command and error has in common.

Commands are frozen dataclasses whose fields declare their own checks (in the field metadata),
so a command that exists is well-shaped: the aggregates only judge it against state, and the
service/CLI can be generated from `dataclasses.fields()` alone. Errors carry a stable `code`,
a message naming the ids and numbers involved, and the same facts as `details` for an API.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import MISSING, dataclass, field, fields
from typing import Any, ClassVar

from hindsight.aggregate import DomainError

# ---------------------------------------------------------------------------------------------
# Errors


class CommerceError(DomainError):
    """Base of every commerce error: message from `template`, facts kept in `details`."""

    code = "commerce_error"
    template = "{message}"

    def __init__(self, **details: Any) -> None:
        super().__init__(self.template.format(**details))
        self.details = details


class InvalidCommand(CommerceError):
    """The command is malformed (wrong type, blank, out of range): an HTTP layer's 422."""

    code = "invalid_command"
    template = "{command}: invalid {field}: {reason}"

    def __init__(self, field: str, reason: str, command: str = "command") -> None:
        super().__init__(field=field, reason=reason, command=command)
        self.field = field
        self.reason = reason
        self.command = command


class UnknownCommand(CommerceError):
    """No aggregate handles this command (a routing bug, or a typo in a generated client)."""

    code = "unknown_command"
    template = "unknown command {command!r}: {reason}"


class NotFound(CommerceError):
    """The command addresses an aggregate that has no history yet: an HTTP layer's 404."""

    code = "not_found"


class InvariantViolation(CommerceError):
    """The command is well-formed but the aggregate's current state forbids it: a 409."""

    code = "invariant_violation"


class UnknownEventType(ValueError):
    """A stream holds an event type this code does not know: code older than data, never user
    input, so it is not a DomainError."""

    def __init__(self, aggregate_type: str, event_type: str) -> None:
        super().__init__(f"aggregate {aggregate_type!r} cannot apply event type {event_type!r}")
        self.aggregate_type = aggregate_type
        self.event_type = event_type


# ---------------------------------------------------------------------------------------------
# Field checks: each is (field_name, value) -> normalized value, raising InvalidCommand.

Check = Callable[[str, Any], Any]

ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$"
EMAIL_PATTERN = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"
COUNTRY_PATTERN = r"^[A-Z]{2}$"
MAX_TEXT = 200
MAX_LONG_TEXT = 2000
# Bounds that keep every derived figure inside 64 bits (the read models' `long`): an order of
# MAX_LINES lines at MAX_QUANTITY x MAX_CENTS totals 10^18 cents, under 2^63 ~ 9.2 x 10^18.
MAX_QUANTITY = 1_000_000
MAX_CENTS = 10_000_000_000  # 100 million in a currency's main unit
MAX_ORDER_TOTAL = 10**18  # what a payment or refund can be: a whole order's total

_ID = re.compile(ID_PATTERN)
_EMAIL = re.compile(EMAIL_PATTERN)
_COUNTRY = re.compile(COUNTRY_PATTERN)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def check_identifier(name: str, value: Any) -> str:
    if not isinstance(value, str):
        raise InvalidCommand(name, f"must be a string id, got {type(value).__name__}")
    if not _ID.match(value):
        raise InvalidCommand(
            name, f"must be 1-128 chars of letters, digits, '.', '_', ':', '-', got {value!r}"
        )
    return value


def _text_check(max_len: int, optional: bool) -> Check:
    def check(name: str, value: Any) -> str | None:
        if value is None and optional:
            return None
        if not isinstance(value, str):
            raise InvalidCommand(name, f"must be a string, got {type(value).__name__}")
        if not value.strip():
            raise InvalidCommand(name, "must not be blank")
        if len(value) > max_len:
            raise InvalidCommand(name, f"must be at most {max_len} characters, got {len(value)}")
        return value

    return check


def check_email(name: str, value: Any) -> str:
    value = _text_check(254, optional=False)(name, value)
    if not _EMAIL.match(value):
        raise InvalidCommand(name, f"must be an email address like a@b.example, got {value!r}")
    return value


def check_country(name: str, value: Any) -> str:
    if not isinstance(value, str) or not _COUNTRY.match(value.upper()):
        raise InvalidCommand(name, f"must be an ISO 3166-1 alpha-2 code like 'DE', got {value!r}")
    return value.upper()


def _int_check(minimum: int, maximum: int, optional: bool) -> Check:
    def check(name: str, value: Any) -> int | None:
        if value is None and optional:
            return None
        if not _is_int(value):
            raise InvalidCommand(name, f"must be an integer, got {type(value).__name__}")
        if value < minimum:
            raise InvalidCommand(name, f"must be >= {minimum}, got {value}")
        if value > maximum:
            raise InvalidCommand(name, f"must be <= {maximum:,}, got {value:,}")
        return value

    return check


def checked(check: Check, *, doc: str, default: Any = MISSING) -> Any:
    """A dataclass field whose value `Validated.__post_init__` passes through `check`.

    Typed `Any` so that `name: str = checked(...)` type-checks like a plain default.
    """
    metadata = {"check": check, "doc": doc}
    if default is MISSING:
        return field(metadata=metadata)
    return field(default=default, metadata=metadata)


def identifier(doc: str) -> Any:
    return checked(check_identifier, doc=doc)


def text(doc: str, *, max_len: int = MAX_TEXT) -> Any:
    return checked(_text_check(max_len, optional=False), doc=doc)


def optional_text(doc: str, *, max_len: int = MAX_LONG_TEXT) -> Any:
    return checked(_text_check(max_len, optional=True), doc=doc, default=None)


def email(doc: str) -> Any:
    return checked(check_email, doc=doc)


def country(doc: str) -> Any:
    return checked(check_country, doc=doc)


def quantity(doc: str) -> Any:
    return checked(_int_check(1, MAX_QUANTITY, optional=False), doc=doc)


def cents(doc: str, *, minimum: int = 1, maximum: int = MAX_CENTS) -> Any:
    return checked(_int_check(minimum, maximum, optional=False), doc=doc)


def optional_cents(doc: str, *, maximum: int = MAX_CENTS) -> Any:
    return checked(_int_check(1, maximum, optional=True), doc=doc, default=None)


# ---------------------------------------------------------------------------------------------
# Commands


@dataclass(frozen=True)
class Validated:
    """A frozen value that runs its fields' checks on construction, so it cannot exist invalid."""

    def __post_init__(self) -> None:
        try:
            for f in fields(self):
                check: Check | None = f.metadata.get("check")
                if check is not None:
                    object.__setattr__(self, f.name, check(f.name, getattr(self, f.name)))
        except InvalidCommand as err:
            if err.command != "command":
                raise
            raise InvalidCommand(err.field, err.reason, type(self).__name__) from None


@dataclass(frozen=True)
class Command(Validated):
    """A request to change one aggregate. Subclasses name the aggregate type that handles them
    and the field holding its id, which is all the service needs to route them."""

    aggregate_type: ClassVar[str]
    id_field: ClassVar[str]

    @property
    def aggregate_id(self) -> str:
        value: str = getattr(self, self.id_field)
        return value
