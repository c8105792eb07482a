"""Crypto-shredding: personal data stored encrypted with a key per data subject, so that
erasure is the destruction of one key and survives every replay.

An event log is immutable and replayed from its first record, on Kafka and from the store: a
field set to null in the store stays in clear on Kafka forever, and a replay as of a moment
before the erasure would bring it back. So the fields the data contracts mark `encrypted` (the
governance lint requires it of every pii field of an event) are sealed before they are stored,
with AES-256-GCM (`cryptography`) under a key per data subject (the event's aggregate), kept in
the event store's database and never on Kafka. The store, the projection job, replays and
rebuilds open them while the key exists; an event the contracts mark `erasesSubject` destroys
the key in the transaction that appends it. From then on every copy of those fields (the store's
rows, every Kafka record, any replay) is ciphertext no one can open: it reads as null.

A sealed value is a string `hs1:<base64url(nonce | ciphertext | tag)>` holding the JSON of the
clear value; the additional data binds it to its subject and field, so a sealed value copied
into another subject's event, or another field, does not open.
"""

from __future__ import annotations

import base64
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

import orjson
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

PREFIX = "hs1:"
KEY_BYTES = 32
_NONCE_BYTES = 12


class SealError(ValueError):
    """A sealed value that does not open with its subject's key: tampered or misplaced, or
    no key row at all (the reader is not looking at the store that sealed it)."""


def new_key() -> bytes:
    return AESGCM.generate_key(bit_length=KEY_BYTES * 8)


def is_sealed(value: Any) -> bool:
    return isinstance(value, str) and value.startswith(PREFIX)


def _aad(subject: str, name: str) -> bytes:
    return f"{subject}\x1f{name}".encode()


def seal(key: bytes, subject: str, name: str, value: Any) -> str:
    nonce = os.urandom(_NONCE_BYTES)
    sealed = AESGCM(key).encrypt(nonce, orjson.dumps(value), _aad(subject, name))
    return PREFIX + base64.urlsafe_b64encode(nonce + sealed).rstrip(b"=").decode()


def unseal(key: bytes, subject: str, name: str, value: str) -> Any:
    token = value[len(PREFIX) :]
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        clear = AESGCM(key).decrypt(raw[:_NONCE_BYTES], raw[_NONCE_BYTES:], _aad(subject, name))
    except (InvalidTag, ValueError) as err:
        raise SealError(f"{name}: a sealed value that does not open for {subject!r}") from err
    return orjson.loads(clear)


def subject_of(aggregate_type: str, aggregate_id: str) -> str:
    """Whose data an event holds: its aggregate's (a customer's events hold the customer's)."""
    return f"{aggregate_type}:{aggregate_id}"


def key_rows(rows: Iterable[tuple[str, Any]]) -> dict[str, bytes | None]:
    """(subject, key) rows as a store returns them (a driver may give a memoryview), a
    null key being an erased subject."""
    return {subject: bytes(key) if key is not None else None for subject, key in rows}


class KeyReader(Protocol):
    """Subject keys as the event store holds them: a subject it has no row for is left out
    (the store never made one), None for an erased one. Read-only: the projection job's."""

    def keys(self, subjects: Iterable[str]) -> dict[str, bytes | None]: ...


@dataclass(frozen=True)
class Policy:
    """What the contracts say: per event type, the `data` fields stored sealed; and the event
    types whose append destroys their subject's key."""

    sealed: Mapping[str, frozenset[str]] = field(default_factory=dict)
    erasing: frozenset[str] = frozenset()

    def fields(self, event_type: str) -> frozenset[str]:
        return self.sealed.get(event_type, frozenset())

    def __bool__(self) -> bool:
        return bool(self.sealed or self.erasing)


NO_POLICY = Policy()


def seal_data(
    policy: Policy, key: bytes | None, subject: str, event_type: str, data: Mapping[str, Any]
) -> dict[str, Any]:
    """`data` with its sealed fields sealed under `key`; with no key (the subject was erased)
    they are stored as null: no new personal data of a forgotten subject is ever kept."""
    names = policy.fields(event_type)
    out = dict(data)
    for name in names:
        value = out.get(name)
        if value is None or is_sealed(value):
            continue
        out[name] = seal(key, subject, name, value) if key is not None else None
    return out


def open_data(
    policy: Policy, key: bytes | None, subject: str, event_type: str, data: Mapping[str, Any]
) -> dict[str, Any]:
    """`data` with its sealed fields opened; null where the key is gone. A clear value (an
    event stored before sealing began) passes as it is."""
    names = policy.fields(event_type)
    if not names:
        return dict(data)
    out = dict(data)
    for name in names:
        value = out.get(name)
        if is_sealed(value):
            out[name] = unseal(key, subject, name, value) if key is not None else None
    return out


def needs_key(policy: Policy, event_type: str, data: Mapping[str, Any]) -> bool:
    """A sealed value to open."""
    return any(is_sealed(data.get(n)) for n in policy.fields(event_type))


def needs_sealing(policy: Policy, event_type: str, data: Mapping[str, Any]) -> bool:
    """A clear value in a field the policy seals."""
    return any(
        data.get(n) is not None and not is_sealed(data[n]) for n in policy.fields(event_type)
    )


class EventOpener:
    """Opens events (as dicts: the job's and the replay's form) with keys from a KeyReader,
    cached per subject: a subject's later events hold no new sealed data once it is erased
    (the store seals nothing without a key), so a cached key never opens data it should not,
    and a new process (a replay, a restarted job) asks the store again."""

    def __init__(self, policy: Policy, reader: KeyReader, cache_size: int = 100_000) -> None:
        self.policy, self.reader, self.cache_size = policy, reader, cache_size
        self._cache: dict[str, bytes | None] = {}

    def __call__(self, event: dict[str, Any]) -> dict[str, Any]:
        event_type, data = event.get("event_type"), event.get("data")
        if not isinstance(data, dict) or not isinstance(event_type, str):
            return event
        if not needs_key(self.policy, event_type, data):
            return event
        subject = subject_of(str(event["aggregate_type"]), str(event["aggregate_id"]))
        if subject not in self._cache:
            if len(self._cache) >= self.cache_size:
                self._cache.clear()
            found = self.reader.keys([subject])
            if subject not in found:  # sealed data no key row was ever made for: wrong store
                raise SealError(f"no key of {subject!r} in the event store the job reads "
                                f"({self.reader}): is it the store that sealed it?")  # fmt: skip
            self._cache[subject] = found[subject]
        key = self._cache[subject]
        return {**event, "data": open_data(self.policy, key, subject, event_type, data)}
