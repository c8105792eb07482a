"""Read-side list queries over the SQL read models: the pages a UI walks, newest first.

Keyset pagination, not OFFSET: a page is "the next `size` rows after this one in the list's
order", `(placed_at, order_id) < (cursor)` on an index in exactly that order, so page 500 costs
what page 1 costs and a row inserted meanwhile neither repeats nor hides another. The cursor
is the last row's sort key, opaque to the client (base64 of JSON); `order_id` breaks ties
between orders placed at the same instant. Each list is answered by one index of
`commerce.read.read_models.ORDER_LIST` (README: the EXPLAIN of each).
"""

from __future__ import annotations

import base64
import binascii
import json
from datetime import datetime
from typing import Any, Protocol

from commerce.read.read_models import CUSTOMER_SUMMARIES, ORDER_LIST

MAX_PAGE = 100


class Connection(Protocol):
    """What a query needs of a DB-API connection (psycopg's: connectors.clients)."""

    def execute(self, query: str, params: Any = ...) -> Any: ...


def _table(schema: str, name: str) -> str:
    """A quoted schema-qualified name (ours: settings and specs, never user input)."""
    return ".".join('"' + part.replace('"', '""') + '"' for part in (schema, name))


class InvalidCursor(ValueError):
    """An `after` this service did not hand out (or that was altered)."""


def encode_cursor(*key: Any) -> str:
    raw = json.dumps([k.isoformat() if isinstance(k, datetime) else k for k in key])
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str, types: tuple[type, ...]) -> list[Any]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        key = json.loads(raw)
        if not isinstance(key, list) or len(key) != len(types):
            raise ValueError("wrong shape")
        return [
            datetime.fromisoformat(k) if t is datetime else t(k)
            for k, t in zip(key, types, strict=True)
        ]
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError):
        raise InvalidCursor(
            "not a cursor this service handed out: pass the `next` of the previous page"
        ) from None


def orders_query(
    *,
    customer_id: str | None = None,
    status: str | None = None,
    after: str | None = None,
    size: int = 20,
    schema: str = "read_models",
    table_prefix: str = "",
) -> tuple[str, list[Any]]:
    """The SQL and parameters of one page of orders (one more row than `size`: whether a
    next page exists). Exposed so that its plan can be shown (`EXPLAIN`)."""
    where, params = ["TRUE"], []
    if customer_id is not None:
        where.append("customer_id = %s")
        params.append(customer_id)
    if status is not None:
        where.append("status = %s")
        params.append(status)
    if after is not None:
        placed_at, order_id = decode_cursor(after, (datetime, str))
        where.append("(placed_at, order_id) < (%s, %s)")
        params += [placed_at, order_id]
    query = (
        "SELECT order_id, customer_id, status, total, line_count, placed_at, updated_at, version "
        f"FROM {_table(schema, ORDER_LIST.table_name(table_prefix))} WHERE {' AND '.join(where)} "
        "ORDER BY placed_at DESC, order_id DESC LIMIT %s"
    )
    return query, [*params, size + 1]


def orders_page(conn: Connection, *, size: int = 20, **filters: Any) -> dict[str, Any]:
    """Orders newest first, of one customer and/or in one status (`orders_query`'s filters);
    `next` is the cursor of the following page (None on the last)."""
    query, params = orders_query(size=size, **filters)
    return _page(conn, query, params, size, ("placed_at", "order_id"))


def customers_page(
    conn: Connection,
    *,
    after: str | None = None,
    size: int = 20,
    schema: str = "read_models",
    table_prefix: str = "",
) -> dict[str, Any]:
    """Customer summaries, best customers (lifetime value) first."""
    where, params = "TRUE", []
    if after is not None:
        value, customer_id = decode_cursor(after, (int, str))
        where, params = "(lifetime_value, customer_id) < (%s, %s)", [value, customer_id]
    query = (
        "SELECT customer_id, name, city, order_count, lifetime_value, last_order_at, forgotten, "
        f"version FROM {_table(schema, CUSTOMER_SUMMARIES.table_name(table_prefix))} "
        f"WHERE {where} ORDER BY lifetime_value DESC, customer_id DESC LIMIT %s"
    )
    return _page(conn, query, [*params, size + 1], size, ("lifetime_value", "customer_id"))


def _page(
    conn: Connection, query: str, params: list[Any], size: int, key: tuple[str, str]
) -> dict[str, Any]:
    cur = conn.execute(query, params)
    names = [c.name for c in cur.description]
    rows = [dict(zip(names, r, strict=True)) for r in cur.fetchall()]
    page, more = rows[:size], len(rows) > size
    for row in page:
        for k, v in row.items():
            if isinstance(v, datetime):
                row[k] = v.isoformat()
    last = page[-1] if page else None
    nxt = encode_cursor(last[key[0]], last[key[1]]) if more and last else None
    return {"items": page, "next": nxt}
