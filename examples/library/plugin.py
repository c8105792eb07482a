"""What settings point at to run the library next to commerce on one read side.

    HINDSIGHT_PROJECTIONS=examples.library.plugin:STAGES
    HINDSIGHT_READ_MODELS=examples.library.plugin
    HINDSIGHT_CONTRACTS_DIRS='["data-products", "examples/library"]'

Commerce is extended, not replaced, because one projection job and one pair of sinks serve
every domain whose topics match the job's pattern; a library-only deployment would list only
BOOKS here. PORTS is the whole registry the linter holds the contracts to.
"""

from __future__ import annotations

from commerce.read import plugin as commerce
from commerce.read import projections as commerce_projections
from examples.library.domain import DOMAIN
from examples.library.projection import BOOKS, BOOKS_INDEX
from hindsight.contracts.ports import Port
from hindsight.topics import topic_name
from pipelines.model import Projection
from pipelines.read_models import GraphPattern, IndexSpec, TableSpec
from pipelines.runtime import stages_of

PROJECTIONS: list[Projection] = [*commerce_projections.PROJECTIONS, BOOKS]
STAGES: list[list[Projection]] = stages_of(PROJECTIONS, commerce_projections.FEEDS)

INDEX_SPECS: dict[str, IndexSpec] = {**commerce.INDEX_SPECS, BOOKS_INDEX.alias: BOOKS_INDEX}
GRAPH_PATTERNS: dict[str, GraphPattern] = dict(commerce.GRAPH_PATTERNS)
TABLE_SPECS: dict[str, TableSpec] = dict(commerce.TABLE_SPECS)

PORTS: frozenset[Port] = commerce.PORTS | {
    Port("kafka", topic_name(DOMAIN)),
    Port("elasticsearch", BOOKS_INDEX.alias),
}
