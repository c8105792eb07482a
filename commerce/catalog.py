"""Catalog: what is sold and at what list price.

Prices are integer cents (`*_cents`) so that sums are exact. `ProductCreated` is at schema
version 2; version 1 carried `price` as a decimal string, upcast on read by
`commerce.upcasters`, so `evolve` only ever sees version 2 data.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, ClassVar

from commerce import base as v
from commerce.base import Command, InvariantViolation, NotFound, UnknownCommand, UnknownEventType
from hindsight.aggregate import Aggregate
from hindsight.events import NewEvent

PRODUCT = "product"
DOMAIN = "catalog"
PRODUCT_CREATED_VERSION = 2


class ProductNotFound(NotFound):
    code = "product_not_found"
    template = "product {product_id!r} does not exist in the catalog"


class ProductAlreadyExists(InvariantViolation):
    code = "product_already_exists"
    template = "product {product_id!r} already exists in the catalog"


@dataclass(frozen=True)
class CreateProduct(Command):
    aggregate_type: ClassVar[str] = PRODUCT
    id_field: ClassVar[str] = "product_id"

    product_id: str = v.identifier("id chosen by the caller (e.g. the SKU)")
    name: str = v.text("display name")
    category: str = v.text("category name; becomes a graph node")
    price_cents: int = v.cents("list price in integer cents (0 = free)", minimum=0)
    description: str | None = v.optional_text("free text for search")


@dataclass(frozen=True)
class ChangePrice(Command):
    aggregate_type: ClassVar[str] = PRODUCT
    id_field: ClassVar[str] = "product_id"

    product_id: str = v.identifier("the product to reprice")
    price_cents: int = v.cents("new list price in integer cents", minimum=0)


COMMANDS: tuple[type[Command], ...] = (CreateProduct, ChangePrice)
EVENT_TYPES = ("ProductCreated", "ProductPriceChanged")
ERRORS = (ProductNotFound, ProductAlreadyExists)


@dataclass(frozen=True)
class Product:
    product_id: str | None = None
    name: str | None = None
    category: str | None = None
    description: str | None = None
    price_cents: int = 0

    @property
    def exists(self) -> bool:
        return self.product_id is not None


def decide(state: Product, command: Command) -> list[NewEvent]:
    match command:
        case CreateProduct():
            if state.exists:
                raise ProductAlreadyExists(product_id=command.product_id)
            data = {
                "product_id": command.product_id,
                "name": command.name,
                "category": command.category,
                "price_cents": command.price_cents,
                "description": command.description,
            }
            return [NewEvent("ProductCreated", data, schema_version=PRODUCT_CREATED_VERSION)]
        case ChangePrice():
            if not state.exists:
                raise ProductNotFound(product_id=command.product_id)
            if command.price_cents == state.price_cents:
                return []  # same price: no event, so a retried command is harmless
            return [
                NewEvent(
                    "ProductPriceChanged",
                    {
                        "product_id": command.product_id,
                        "price_cents": command.price_cents,
                        "previous_price_cents": state.price_cents,
                    },
                )
            ]
    raise UnknownCommand(command=type(command).__name__, reason=f"not a {PRODUCT} command")


def evolve(state: Product, event_type: str, data: dict[str, Any]) -> Product:
    if event_type == "ProductCreated":
        return Product(
            product_id=data["product_id"],
            name=data["name"],
            category=data["category"],
            description=data.get("description"),
            price_cents=data["price_cents"],
        )
    if event_type == "ProductPriceChanged":
        return replace(state, price_cents=data["price_cents"])
    raise UnknownEventType(PRODUCT, event_type)


AGGREGATE: Aggregate[Product] = Aggregate(
    aggregate_type=PRODUCT, domain=DOMAIN, initial=Product, decide=decide, evolve=evolve
)
