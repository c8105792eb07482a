"""What each store can take at most: the final read models loaded into it alone (issue 13, 4c).

The end-to-end run writes every version of every document the log produces; a store's ceiling
is the least work that leaves it holding the same read models: each document once, at its
final version, through the same sink (Elasticsearch bulk, Neo4j `UNWIND` statements, the same
mappings, statements and version guards), in the sink's default batches, with nothing else
running. Its rate is given in *events of the log* per second (the events those documents stand
for / the load's seconds), so it compares with the end-to-end events/s directly: "end to end
>= 0.7 x the slower store's ceiling" asks how close the whole pipeline comes to the store alone.
The documents land in indices and labels under the run's own prefixes (`c-` / `C`), which the
run's cleanup removes.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import Any

from entrypoints.sinks import DEFAULT_BATCH, build_sink
from hindsight.settings import Settings
from hindsight.topics import SINKS
from pipelines.model import Output


def load_ceilings(s: Settings, final: Iterable[Output], events: int) -> dict[str, Any]:
    """Each sink alone, fed the final outputs; seconds, rows/s and events/s per store."""
    cs = s.model_copy(
        update={
            "es_alias_prefix": f"{s.es_alias_prefix}c-",
            "neo4j_label_prefix": f"{s.neo4j_label_prefix}C",
            "postgres_table_prefix": f"{s.postgres_table_prefix}c_",
        }
    )
    outputs = list(final)
    out: dict[str, Any] = {}
    for name in SINKS:
        mine = [o for o in outputs if o.sink == name]
        sink = build_sink(name, cs)  # type: ignore[arg-type]
        sink.start()  # the health check and index / constraint creation: not timed
        size = DEFAULT_BATCH[name]  # type: ignore[index]
        try:
            t = time.perf_counter()
            written = sum(sink.write(mine[i : i + size]).written for i in range(0, len(mine), size))
            seconds = time.perf_counter() - t
        finally:
            sink.close()
        out[name] = {
            "rows": len(mine),
            "written": written,
            "batch": size,
            "seconds": round(seconds, 2),
            "rows_per_s": round(len(mine) / seconds, 1) if seconds else None,
            "events_per_s": round(events / seconds, 1) if seconds else None,
        }
    return out
