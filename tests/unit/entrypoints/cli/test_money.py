"""Money in the CLI's tables reads as money (the read models keep integer cents)."""

from __future__ import annotations

from rich.console import Console

from entrypoints.cli.query import _table
from entrypoints.formatting import money


def test_cents_are_shown_as_money_in_the_unit_of_the_price_bands() -> None:
    assert money(13100) == "131.00" and money(5) == "0.05" and money(123456789) == "1,234,567.89"
    table = _table("products", [{"name": "Kettle", "price": 13100, "units_sold": 7}],
                   ["name", "price", "units_sold"])  # fmt: skip
    console = Console(record=True, width=80)
    console.print(table)
    text = console.export_text()
    assert "131.00" in text and "13100" not in text
    assert " 7 " in text  # a count stays a count
