"""The crypto-shredding policy the contracts state (hindsight.shredding): which event fields
are stored sealed under their subject's key, and which events erase the subject."""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from pathlib import Path

from hindsight.contracts.model import Contract, contracts_in, default_contracts
from hindsight.shredding import Policy


def sealing_policy(contracts: Mapping[str, Contract]) -> Policy:
    """Per event type, the `data` fields marked `encrypted`; the events marked
    `erasesSubject`. Every version of an event type counts (an old version's field stays
    sealed when a newer one drops it)."""
    sealed: dict[str, set[str]] = {}
    erasing: set[str] = set()
    for c in contracts.values():
        for s in c.events():
            event_type = str(s.event_type)
            names = {f.name for f in s.data_fields if f.encrypted}
            if names:
                sealed.setdefault(event_type, set()).update(names)
            if s.erases_subject:
                erasing.add(event_type)
    return Policy({t: frozenset(n) for t, n in sealed.items()}, frozenset(erasing))


@cache
def sealing_policy_for(roots: tuple[Path, ...]) -> Policy:
    return sealing_policy(contracts_in(roots))


def default_sealing_policy() -> Policy:
    """The configured contracts' policy (settings.contracts_dirs)."""
    return sealing_policy(default_contracts())
