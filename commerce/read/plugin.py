"""What settings point at to run commerce's read side (the shipped defaults do).

    HINDSIGHT_PROJECTIONS=commerce.read.plugin:STAGES
    HINDSIGHT_READ_MODELS=commerce.read.plugin

The platform loads these by name (`hindsight.plugins.load`, `pipelines.read_models`), so the
projection job, its Python workers and the sink workers import what the environment names.
"""

from __future__ import annotations

from commerce.read.ports import PORTS
from commerce.read.projections import STAGES
from commerce.read.read_models import GRAPH_PATTERNS, INDEX_SPECS, TABLE_SPECS

__all__ = ["GRAPH_PATTERNS", "INDEX_SPECS", "PORTS", "STAGES", "TABLE_SPECS"]
