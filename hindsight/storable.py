"""Values that every event store backend and every read model can keep, checked at the edge.

Why: PostgreSQL's text and jsonb refuse the NUL character, and no UTF-8 encoder takes a lone
surrogate (what JSON's `"\\ud800"` escape decodes to in Python). A command carrying either used
to fail deep inside the store with a 500 (NUL only on PostgreSQL, surrogates on both). Numbers
have the same problem one step later: an integer beyond 64 bits is stored happily and then
refused by Elasticsearch (`long`), Neo4j and the JVM, and NaN or Infinity are not JSON at all
(the store would write null). Refusing such values before anything is decided, naming the
field, keeps the backends interchangeable and the error a 422 instead of a poisoned log.

The store itself checks text on every append (cheaply, see `dumps_json`); numbers are checked
on commands (`CommandHandler.execute_json`), where a domain's own limits also apply.
"""

from __future__ import annotations

import math
from typing import Any

NUL_REASON = "contains a NUL character (\\u0000), which the event store cannot keep"
SURROGATE_REASON = "contains a lone surrogate (e.g. \\ud800), which is not valid Unicode text"
INT_REASON = "is outside the 64-bit integer range that Elasticsearch, Neo4j and the JVM hold"
FLOAT_REASON = "is not a finite number (NaN and Infinity are not JSON)"
INT64 = range(-(2**63), 2**63)


class UnstorableValue(ValueError):
    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field or 'value'}: {reason}")
        self.field = field
        self.reason = reason


def text_problem(text: str) -> str | None:
    """Why `text` cannot be stored, or None."""
    if "\x00" in text:
        return NUL_REASON
    if not text.isascii():
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            return SURROGATE_REASON
    return None


def check_text(text: str | None, field: str) -> None:
    if text is not None and (reason := text_problem(text)) is not None:
        raise UnstorableValue(field, reason)


def find_unstorable(value: Any, path: str = "", *, numbers: bool = False) -> tuple[str, str] | None:
    """The first (field path, reason) in a JSON-like value that cannot be kept; keys count as
    text too, and with `numbers` integers beyond 64 bits and NaN/Infinity count as well.
    Paths read like `lines[0].product_id`."""
    if isinstance(value, str):
        reason = text_problem(value)
        return None if reason is None else (path, reason)
    if numbers and isinstance(value, int) and not isinstance(value, bool):
        return None if value in INT64 else (path, INT_REASON)
    if numbers and isinstance(value, float):
        return None if math.isfinite(value) else (path, FLOAT_REASON)
    if isinstance(value, dict):
        for key, item in value.items():
            here = f"{path}.{key}" if path else str(key)
            if isinstance(key, str) and (reason := text_problem(key)) is not None:
                return (f"{path}.<key>" if path else "<key>", reason)
            if (found := find_unstorable(item, here, numbers=numbers)) is not None:
                return found
    elif isinstance(value, list | tuple):
        for i, item in enumerate(value):
            if (found := find_unstorable(item, f"{path}[{i}]", numbers=numbers)) is not None:
                return found
    return None


def refuse_unstorable(value: Any, path: str = "", *, numbers: bool = False) -> None:
    found = find_unstorable(value, path, numbers=numbers)
    if found is not None:
        raise UnstorableValue(*found)
