"""Text that every event store backend can keep, checked at the edge.

Why: PostgreSQL's text and jsonb refuse the NUL character, and no UTF-8 encoder takes a lone
surrogate (what JSON's `"\\ud800"` escape decodes to in Python). A command carrying either used
to fail deep inside the store with a 500 (NUL only on PostgreSQL, surrogates on both), or, on
SQLite, be stored and then break every later reader of that event. Refusing it before anything
is decided, naming the field, keeps the backends interchangeable and the error a 422.
"""

from __future__ import annotations

from typing import Any

NUL_REASON = "contains a NUL character (\\u0000), which the event store cannot keep"
SURROGATE_REASON = "contains a lone surrogate (e.g. \\ud800), which is not valid Unicode text"


class UnstorableText(ValueError):
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
        raise UnstorableText(field, reason)


def find_unstorable(value: Any, path: str = "") -> tuple[str, str] | None:
    """The first (field path, reason) in a JSON-like value whose text cannot be stored;
    keys count as text too. Paths read like `lines[0].product_id`."""
    if isinstance(value, str):
        reason = text_problem(value)
        return None if reason is None else (path, reason)
    if isinstance(value, dict):
        for key, item in value.items():
            here = f"{path}.{key}" if path else str(key)
            if isinstance(key, str) and (reason := text_problem(key)) is not None:
                return (f"{path}.<key>" if path else "<key>", reason)
            if (found := find_unstorable(item, here)) is not None:
                return found
    elif isinstance(value, list | tuple):
        for i, item in enumerate(value):
            if (found := find_unstorable(item, f"{path}[{i}]")) is not None:
                return found
    return None


def refuse_unstorable(value: Any, path: str = "") -> None:
    found = find_unstorable(value, path)
    if found is not None:
        raise UnstorableText(*found)
