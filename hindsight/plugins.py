"""Loading a domain's plug-ins by name, so settings (not code edits) choose what runs.

Settings name Python objects as ``package.module:ATTRIBUTE`` strings: the write-side `Domain`
(``domain``), the projection stages (``projections``) and the read-model module
(``read_models``). Strings, not objects, because they cross process boundaries: the Flink job,
its Python workers and the sink workers each import what the environment names.
"""

from __future__ import annotations

import importlib
from typing import Any


def load(spec: str, default: str | None = None) -> Any:
    """`package.module:ATTRIBUTE` -> that attribute; without `:ATTRIBUTE`, the module's
    `default` attribute, or the module itself when no default is given."""
    module_name, _, attribute = spec.partition(":")
    module = importlib.import_module(module_name)
    attribute = attribute or default or ""
    return getattr(module, attribute) if attribute else module
