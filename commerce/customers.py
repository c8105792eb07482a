"""Customers: who buys. The only domain holding personal data, hence the erasure rules.

`ForgetCustomer` is the GDPR erasure: the resulting state keeps the id (orders and payments
still point at it) and the non-identifying city/country, and drops name, email and street.
The `CustomerForgotten` event itself carries no PII; the PII in earlier events of the stream is
sealed under the customer's key (the contract marks those fields `encrypted`), which appending
`CustomerForgotten` destroys (`erasesSubject`: hindsight.shredding), so every copy, on Kafka
and in any replay, reads as null from then on; `evolve` accepts those events (PII as None).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, ClassVar

from commerce import base as v
from commerce.base import Command, InvariantViolation, NotFound, UnknownCommand, UnknownEventType
from hindsight.aggregate import Aggregate
from hindsight.events import NewEvent

CUSTOMER = "customer"
DOMAIN = "customers"


# --- errors ----------------------------------------------------------------------------------


class CustomerNotFound(NotFound):
    code = "customer_not_found"
    template = "customer {customer_id!r} is not registered"


class CustomerAlreadyRegistered(InvariantViolation):
    code = "customer_already_registered"
    template = "customer {customer_id!r} is already registered"


class CustomerIsForgotten(InvariantViolation):
    code = "customer_forgotten"
    template = "customer {customer_id!r} was forgotten (GDPR erasure): cannot {action}"


# --- commands --------------------------------------------------------------------------------


@dataclass(frozen=True)
class RegisterCustomer(Command):
    aggregate_type: ClassVar[str] = CUSTOMER
    id_field: ClassVar[str] = "customer_id"

    customer_id: str = v.identifier("id chosen by the caller, stable forever")
    name: str = v.text("full name (PII)")
    email: str = v.email("contact email (PII)")
    street: str = v.text("street and number (PII)")
    city: str = v.text("city (not PII on its own)")
    country: str = v.country("ISO 3166-1 alpha-2, upper-cased on input")


@dataclass(frozen=True)
class ChangeCustomerAddress(Command):
    aggregate_type: ClassVar[str] = CUSTOMER
    id_field: ClassVar[str] = "customer_id"

    customer_id: str = v.identifier("the customer who moved")
    street: str = v.text("street and number (PII)")
    city: str = v.text("city (not PII on its own)")
    country: str = v.country("ISO 3166-1 alpha-2, upper-cased on input")


@dataclass(frozen=True)
class ForgetCustomer(Command):
    aggregate_type: ClassVar[str] = CUSTOMER
    id_field: ClassVar[str] = "customer_id"

    customer_id: str = v.identifier("the customer to erase")


COMMANDS: tuple[type[Command], ...] = (RegisterCustomer, ChangeCustomerAddress, ForgetCustomer)
EVENT_TYPES = ("CustomerRegistered", "CustomerAddressChanged", "CustomerForgotten")
ERRORS = (CustomerNotFound, CustomerAlreadyRegistered, CustomerIsForgotten)


# --- state -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Customer:
    customer_id: str | None = None
    name: str | None = None
    email: str | None = None
    street: str | None = None
    city: str | None = None
    country: str | None = None
    forgotten: bool = False

    @property
    def exists(self) -> bool:
        return self.customer_id is not None


# --- decide / evolve -------------------------------------------------------------------------


def _require_active(state: Customer, customer_id: str, action: str) -> None:
    if not state.exists:
        raise CustomerNotFound(customer_id=customer_id)
    if state.forgotten:
        raise CustomerIsForgotten(customer_id=customer_id, action=action)


def decide(state: Customer, command: Command) -> list[NewEvent]:
    match command:
        case RegisterCustomer():
            if state.forgotten:
                # Re-registering the id would silently re-attach old orders to a new person.
                raise CustomerIsForgotten(customer_id=command.customer_id, action="register it")
            if state.exists:
                raise CustomerAlreadyRegistered(customer_id=command.customer_id)
            return [
                NewEvent(
                    "CustomerRegistered",
                    {
                        "customer_id": command.customer_id,
                        "name": command.name,
                        "email": command.email,
                        "street": command.street,
                        "city": command.city,
                        "country": command.country,
                    },
                )
            ]
        case ChangeCustomerAddress():
            _require_active(state, command.customer_id, "change the address")
            new = (command.street, command.city, command.country)
            if new == (state.street, state.city, state.country):
                return []  # nothing changed: no event, so a retried command is harmless
            return [
                NewEvent(
                    "CustomerAddressChanged",
                    {
                        "customer_id": command.customer_id,
                        "street": command.street,
                        "city": command.city,
                        "country": command.country,
                    },
                )
            ]
        case ForgetCustomer():
            if not state.exists:
                raise CustomerNotFound(customer_id=command.customer_id)
            if state.forgotten:
                return []  # erasure is idempotent: asking twice is not an error
            return [NewEvent("CustomerForgotten", {"customer_id": command.customer_id})]
    raise UnknownCommand(command=type(command).__name__, reason=f"not a {CUSTOMER} command")


def evolve(state: Customer, event_type: str, data: dict[str, Any]) -> Customer:
    if event_type == "CustomerRegistered":
        return Customer(
            customer_id=data["customer_id"],
            name=data.get("name"),
            email=data.get("email"),
            street=data.get("street"),
            city=data.get("city"),
            country=data.get("country"),
        )
    if event_type == "CustomerAddressChanged":
        return replace(
            state, street=data.get("street"), city=data.get("city"), country=data.get("country")
        )
    if event_type == "CustomerForgotten":
        return replace(state, name=None, email=None, street=None, forgotten=True)
    raise UnknownEventType(CUSTOMER, event_type)


AGGREGATE: Aggregate[Customer] = Aggregate(
    aggregate_type=CUSTOMER, domain=DOMAIN, initial=Customer, decide=decide, evolve=evolve
)
