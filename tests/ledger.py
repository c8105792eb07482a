"""A tiny aggregate for the event store tests: a ledger with deposits and withdrawals.

Its state is a JSON-able dict, and `digest` depends on the order of events, so a replay that
reorders, drops or doubles an event produces a visibly different state.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from hindsight.aggregate import Aggregate, DomainError
from hindsight.events import NewEvent


@dataclass(frozen=True)
class Deposit:
    amount: int


@dataclass(frozen=True)
class Withdraw:
    amount: int


@dataclass(frozen=True)
class Many:
    """Records a statement: one event per amount (negative: a withdrawal), no balance check."""

    amounts: tuple[int, ...]


def initial() -> dict[str, Any]:
    return {"balance": 0, "entries": 0, "digest": 7}


def decide(state: dict[str, Any], command: Any) -> list[NewEvent]:
    match command:
        case Deposit(amount) if amount > 0:
            return [NewEvent("Deposited", {"amount": amount, "currency": "EUR"}, 3)]
        case Withdraw(amount) if amount > state["balance"]:
            raise DomainError(
                f"cannot withdraw {amount}, balance {state['balance']}", code="insufficient_funds"
            )
        case Withdraw(amount):
            return [NewEvent("Withdrawn", {"amount": amount})]
        case Many(amounts):
            return [
                NewEvent("Deposited", {"amount": a, "currency": "EUR"}, 3)
                if a >= 0
                else NewEvent("Withdrawn", {"amount": -a})
                for a in amounts
            ]
    raise DomainError(f"bad command {command!r}", code="bad_command")


def evolve(state: dict[str, Any], event_type: str, data: dict[str, Any]) -> dict[str, Any]:
    sign = 1 if event_type == "Deposited" else -1
    amount = sign * data["amount"]
    return {
        "balance": state["balance"] + amount,
        "entries": state["entries"] + 1,
        "digest": (state["digest"] * 31 + amount) % 1_000_000_007,
    }


LEDGER: Aggregate[dict[str, Any]] = Aggregate(
    aggregate_type="ledger", domain="test", initial=initial, decide=decide, evolve=evolve
)
