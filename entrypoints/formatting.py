"""How people read what the read models keep: money as money (the models keep integer
cents, exact sums), in the unit the price facets' bands are named in."""

from __future__ import annotations

from typing import Any

# the read models' money fields (commerce's; a field of these names is money anywhere)
MONEY = frozenset({"price", "revenue", "total", "lifetime_value", "unit_price"})


def money(cents: Any) -> str:
    return f"{cents / 100:,.2f}" if isinstance(cents, int | float) else str(cents or "")
