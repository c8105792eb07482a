"""The sink contract: every read-model sink (Elasticsearch, Neo4j, PostgreSQL) must pass these.

Subclass `SinkContract` once per sink, in the sink's own test module, and provide the `sink`
fixture (started, on private names, dropped afterwards), `output` (an Output of one target of
that sink whose content depends on `n`) and `held` (what the store holds for an id: its
version and one content field, or None). What is promised is the same for every store: a write
is acknowledged only when durable, guarded by version (older and duplicate outputs are stale
and change nothing), a batch keeps the newest version per id, a body the store can never take
is refused before it is sent, positions only ever rise, and start-up is idempotent.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from connectors.positions import Mark
from connectors.sink_worker import InvalidOutput, Sink
from pipelines.model import Output


class SinkContract:
    def output(self, id: str, version: int, n: int) -> Output:
        raise NotImplementedError

    def held(self, sink: Any, id: str) -> tuple[int, Any] | None:
        """(version, the content `n` went into) as the store holds it, or None."""
        raise NotImplementedError

    def positions(self, sink: Any) -> int:
        """The store's frontier as its readers see it."""
        raise NotImplementedError

    def test_a_write_is_held_at_its_version(self, sink: Sink) -> None:
        result = sink.write([self.output("a", 1, 10), self.output("b", 3, 30)])
        assert (result.written, result.skipped_stale, result.rejected) == (2, 0, [])
        assert self.held(sink, "a") == (1, 10) and self.held(sink, "b") == (3, 30)

    def test_an_older_version_never_overwrites_a_newer_one(self, sink: Sink) -> None:
        sink.write([self.output("a", 5, 50)])
        result = sink.write([self.output("a", 4, 40)])
        assert (result.written, result.skipped_stale) == (0, 1)
        assert self.held(sink, "a") == (5, 50)

    def test_a_duplicate_is_a_no_op(self, sink: Sink) -> None:
        sink.write([self.output("a", 2, 20)])
        result = sink.write([self.output("a", 2, 21)])  # same version, other content
        assert (result.written, result.skipped_stale) == (0, 1)
        assert self.held(sink, "a") == (2, 20)

    def test_a_newer_version_replaces_the_held_one(self, sink: Sink) -> None:
        sink.write([self.output("a", 1, 10)])
        assert sink.write([self.output("a", 2, 20)]).written == 1
        assert self.held(sink, "a") == (2, 20)

    def test_a_batch_keeps_only_the_newest_version_per_id(self, sink: Sink) -> None:
        result = sink.write([self.output("a", 3, 30), self.output("a", 1, 10)])
        assert (result.written, result.skipped_stale) == (1, 0)
        assert self.held(sink, "a") == (3, 30)

    def test_an_unknown_target_is_refused_before_it_is_sent(self, sink: Sink) -> None:
        stray = dataclasses.replace(self.output("a", 1, 10), target="no_such_read_model")
        with pytest.raises(InvalidOutput, match="no_such_read_model"):
            sink.validate(stray)
        assert self.held(sink, "a") is None

    def test_positions_only_rise(self, sink: Sink) -> None:
        assert self.positions(sink) == 0  # nothing promised before any mark
        sink.save_positions([Mark(120, 0, 2), Mark(80, 1, 2)])
        assert self.positions(sink) == 80
        sink.save_positions([Mark(60, 1, 2)])  # an older mark (a re-delivery)
        assert self.positions(sink) == 80
        sink.save_positions([Mark(150, 1, 2)])
        assert self.positions(sink) == 120

    def test_start_again_is_idempotent_and_keeps_what_is_held(self, sink: Sink) -> None:
        sink.write([self.output("a", 1, 10)])
        sink.start()  # a restarted or second worker
        assert self.held(sink, "a") == (1, 10)
