"""The projector a user would write instead of Flink: one Python process, no framework.

It is the yardstick `make bench-pipeline` holds the Hindsight job and its sink workers to
(issue 13, item 4b), so it keeps the same guarantees, not fewer: every record is checked
against the data contracts (the invalid ones are counted as dead letters), the same pure
folds run in a dict (`pipelines.reference`, exactly what the job folds), each batch's changed
documents are written with the same version-guarded sinks (Elasticsearch bulk, Neo4j
`UNWIND`), and the consumer's offsets are committed only after both stores have flushed, so a
crash replays the batch and the version guards absorb it.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from confluent_kafka import Consumer

from commerce.read.projections import PROJECTIONS
from entrypoints.sinks import DEFAULT_BATCH, build_sink
from hindsight.contracts.validator import Invalid, validator_for
from hindsight.settings import Settings
from hindsight.topics import SINKS, events_pattern, is_mark
from pipelines.model import Output
from pipelines.reference import ReferenceProjector


class _Changes(ReferenceProjector):
    """The reference projector that also keeps what changed since the last flush."""

    def __init__(self) -> None:
        super().__init__(PROJECTIONS)
        self.pending: dict[tuple[str, str, str], Output] = {}

    def _keep(self, out: Output) -> None:
        super()._keep(out)
        self.pending[(out.sink, out.target, out.id)] = self._latest[(out.sink, out.target, out.id)]


@dataclass
class BaselineRun:
    events: int = 0
    dead_letters: int = 0
    batches: int = 0
    written: dict[str, int] = field(default_factory=lambda: dict.fromkeys(SINKS, 0))
    seconds: float = 0.0

    def figures(self) -> dict[str, Any]:
        return {
            "events": self.events,
            "dead_letters": self.dead_letters,
            "batches": self.batches,
            "written": self.written,
            "seconds": round(self.seconds, 2),
            "events_per_s": round(self.events / self.seconds, 1) if self.seconds else None,
        }


def run_baseline(s: Settings, until_records: int, *, batch: int = 5000) -> BaselineRun:
    """Consume the deployment's event topics from the start until `until_records` records
    were read, projecting and writing as it goes; returns what it did and how long it took
    (from the first record read to the last commit)."""
    validator = validator_for(tuple(s.contracts_dirs))
    projector = _Changes()
    sinks = {name: build_sink(name, s) for name in SINKS}  # type: ignore[arg-type]
    for sink in sinks.values():
        sink.start()
    consumer = Consumer(
        {
            "bootstrap.servers": s.kafka_bootstrap,
            "group.id": f"{s.kafka_topic_prefix}-baseline",
            "isolation.level": "read_committed",
            "enable.auto.commit": False,
            "auto.offset.reset": "earliest",
        }
    )
    consumer.subscribe([f"^{events_pattern(s.kafka_topic_prefix)}"])
    run, started = BaselineRun(), None
    try:
        while run.events + run.dead_letters < until_records:
            messages = [m for m in consumer.consume(batch, timeout=0.5) if not m.error()]
            if not messages:
                continue
            started = started or time.perf_counter()
            for m in messages:
                if is_mark(m.headers()):
                    continue  # the relay's position marks are not events
                result = validator.validate(m.value() or b"")
                if isinstance(result, Invalid):
                    run.dead_letters += 1
                    continue
                projector.feed([result])
                run.events += 1
            changed = list(projector.pending.values())
            projector.pending.clear()
            for name, sink in sinks.items():
                mine = [o for o in changed if o.sink == name]
                size = DEFAULT_BATCH[name]  # type: ignore[index]
                for i in range(0, len(mine), size):
                    run.written[name] += sink.write(mine[i : i + size]).written
            consumer.commit(asynchronous=False)  # only once both stores hold the batch
            run.batches += 1
        run.seconds = time.perf_counter() - (started or time.perf_counter())
    finally:
        consumer.close()
        for sink in sinks.values():
            sink.close()
    return run
