"""Elasticsearch sink: search read models written with external versioning.

`_id` is the Output id and `version` the Output version with `version_type=external`, so
Elasticsearch itself refuses anything not newer than what it holds (409). No read-before-
write and no scripts: a replayed, duplicated or reordered output is a cheap rejected bulk
item, counted as stale. Writes go to the sink's own index, readers through the alias: a
rebuilt generation takes the alias over (entrypoints.generations) and no write of this sink
follows it there.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping, Sequence
from typing import Any

from elastic_transport import ConnectionError as TransportConnectionError
from elastic_transport import ConnectionTimeout
from elasticsearch import ApiError, BadRequestError

from connectors import clients
from connectors.positions import Durable, Mark, durable
from connectors.sink_worker import (
    SINK_RETRY,
    InvalidOutput,
    SinkError,
    SinkUnavailable,
    WriteResult,
    latest_per_key,
    sink_backoff,
)
from hindsight.retry import RetryPolicy
from pipelines.model import Output
from pipelines.read_models import IndexSpec

log = logging.getLogger("hindsight.sink.elasticsearch")

_RETRYABLE_STATUS = frozenset({429, 502, 503, 504})


class _Retryable(Exception):
    """The whole request or some items failed in a way another attempt can fix."""


POSITIONS_INDEX = "hindsight-positions"
_POSITIONS_MAPPING = {
    "properties": {
        "position": {"type": "long"},
        "subtask": {"type": "integer"},
        "of": {"type": "integer"},
        "saved_at": {"type": "double"},
    }
}


class ElasticsearchPositions:
    """The durable marks of one set of search read models (connectors.positions), one
    document per writer subtask in `<prefix>hindsight-positions`, versioned by position so
    an older mark never overwrites a newer one."""

    def __init__(self, client: Any, alias_prefix: str = "") -> None:
        self.client = client
        self.index = f"{alias_prefix}{POSITIONS_INDEX}"

    def ensure(self) -> None:
        if self.client.indices.exists(index=self.index):
            return
        try:
            self.client.indices.create(
                index=self.index,
                settings={"number_of_shards": 1, "number_of_replicas": 0},
                mappings=_POSITIONS_MAPPING,
            )
        except BadRequestError as err:
            if err.error != "resource_already_exists_exception":
                raise

    def save(self, marks: Sequence[Mark]) -> None:
        ops: list[dict[str, Any]] = []
        for d in durable(marks):
            ops.append({"index": {"_index": self.index, "_id": f"{d.subtask}-of-{d.of}",
                                  "version": d.position, "version_type": "external"}})  # fmt: skip
            ops.append({"position": d.position, "subtask": d.subtask, "of": d.of,
                        "saved_at": d.saved_at})  # fmt: skip
        # refreshed at once (a handful of documents in a one-shard index): readers search it
        response = self.client.bulk(operations=ops, refresh=True)
        for item in response["items"]:
            status = item["index"]["status"]
            if status >= 300 and status != 409:  # 409: a newer mark is there already
                raise _Retryable(f"position not saved: {_reason(item['index'])}")

    def load(self) -> list[Durable]:
        """Every subtask's document (searchable as soon as saved: `save` refreshes)."""
        try:
            hits = self.client.search(index=self.index, size=1000, query={"match_all": {}},
                                      version=False)["hits"]["hits"]  # fmt: skip
        except ApiError as err:
            # 404: no worker has started yet; 503: one is creating the index right now (its
            # shard not started): either way no position is saved yet
            if err.meta.status in (404, 503):
                return []
            raise
        return [Durable(int(h["_source"]["position"]), int(h["_source"]["subtask"]),
                        int(h["_source"]["of"]), float(h["_source"]["saved_at"]))
                for h in hits]  # fmt: skip


class ElasticsearchSink:
    """Bulk-writes Outputs to the index aliases of `specs` (a read-model plug-in's INDEX_SPECS).

    alias_prefix / generation: tests pass a unique prefix to own private indices and aliases
    (`<prefix><alias>` -> `<prefix><alias>-<generation>`); production uses neither.
    refresh: "false" in production (Elasticsearch refreshes every second); tests that read
    right after a write may pass "wait_for".
    """

    name = "elasticsearch"

    def __init__(
        self,
        url: str,
        *,
        specs: Mapping[str, IndexSpec],
        alias_prefix: str = "",
        generation: int = 1,
        retry: RetryPolicy = SINK_RETRY,
        start_timeout_s: float = 60.0,
        request_timeout_s: float = 30.0,
        refresh: str = "false",
    ) -> None:
        self.specs = dict(specs)
        self.alias_prefix = alias_prefix
        self.generation = generation
        self.retry = retry
        self.start_timeout_s = start_timeout_s
        self.refresh = refresh
        # retries are ours (backoff, per-item): the client must not retry behind our back
        self.client = clients.elasticsearch(url, request_timeout_s=request_timeout_s, retries=False)
        self.positions = ElasticsearchPositions(self.client, alias_prefix)

    def alias(self, target: str) -> str:
        return self.specs[target].alias_name(self.alias_prefix)

    def index(self, target: str) -> str:
        return self.specs[target].index_name(self.generation, self.alias_prefix)

    # ------------------------------------------------------------------ start-up

    def start(self) -> None:
        """Wait for a usable cluster, then make sure every alias exists (idempotent)."""
        policy = RetryPolicy(max_backoff_s=5.0, budget_s=self.start_timeout_s)

        def healthy() -> None:
            try:
                health = self.client.cluster.health(wait_for_status="yellow", timeout="5s")
            except (TransportConnectionError, ConnectionTimeout) as err:
                raise _Retryable(str(err)) from err
            if health.get("timed_out") or health.get("status") == "red":
                raise _Retryable(f"cluster status {health.get('status')}")

        sink_backoff(healthy, policy, (_Retryable,), what="elasticsearch health check")
        for target in self.specs:
            self._ensure_index(target)
        self.positions.ensure()

    def _ensure_index(self, target: str) -> None:
        """The sink's own index, and the alias onto it unless the alias exists already (a
        rebuilt generation may hold it now: this sink still writes its own index only)."""
        alias, index = self.alias(target), self.index(target)
        if self.client.indices.exists(index=index):
            if not self.client.indices.exists_alias(name=alias):
                self.client.indices.put_alias(index=index, name=alias, is_write_index=True)
                log.info("aliased existing index %s as %s", index, alias)
            return
        body = self.specs[target].create_body()
        aliased = self.client.indices.exists_alias(name=alias)
        try:
            self.client.indices.create(
                index=index,
                settings=body["settings"],
                mappings=body["mappings"],
                aliases={} if aliased else {alias: {"is_write_index": True}},
            )
            log.info("created index %s%s", index, "" if aliased else f" behind alias {alias}")
        except BadRequestError as err:
            if err.error != "resource_already_exists_exception":
                raise  # else a racing worker made it: the check above holds next start

    # ------------------------------------------------------------------ writing

    def elements(self, target: str) -> tuple[str, ...]:
        return (self.specs[target].alias,)  # the contracts name the alias, never a prefix

    def validate(self, output: Output) -> None:
        if output.target not in self.specs:
            raise InvalidOutput(
                f"unknown index alias {output.target!r}; known: {', '.join(self.specs)}"
            )
        if len(output.id.encode()) > 512:
            raise InvalidOutput("id longer than 512 bytes (Elasticsearch _id limit)")

    def write(self, outputs: Sequence[Output]) -> WriteResult:
        """One bulk request per attempt; only the failed items go into the next attempt.

        Item outcomes: 2xx written; 409 stale (external version not newer); 400 rejected for
        good (the body breaks the mapping: the worker dead-letters it); anything else is
        retried with backoff, then SinkUnavailable (429/5xx) or SinkError."""
        result = WriteResult()
        pending = latest_per_key(outputs)
        for o in pending:
            self.validate(o)
        last_failures: list[tuple[int, str]] = []

        def attempt() -> None:
            nonlocal pending, last_failures
            try:
                response = self.client.bulk(operations=self._operations(pending),
                                            refresh=self.refresh)  # fmt: skip
            except (TransportConnectionError, ConnectionTimeout) as err:
                raise _Retryable(str(err)) from err
            except ApiError as err:
                if err.meta.status in _RETRYABLE_STATUS:
                    raise _Retryable(f"HTTP {err.meta.status}: {err.message}") from err
                raise SinkError(f"bulk request refused: {err}") from err
            retry: list[Output] = []
            last_failures = []
            for item, output in zip(response["items"], pending, strict=True):
                r = item["index"]
                status = r["status"]
                if status < 300:
                    result.written += 1
                elif status == 409:
                    result.skipped_stale += 1
                elif status == 400:
                    result.rejected.append((output, _reason(r)))
                else:
                    retry.append(output)
                    last_failures.append((status, _reason(r)))
            pending = retry
            if retry:
                raise _Retryable(f"{len(retry)} items failed, e.g. {last_failures[0]}")

        def count_retry() -> None:
            result.retries += 1

        try:
            sink_backoff(attempt, self.retry, (_Retryable,), what="elasticsearch bulk",
                         on_retry=count_retry)  # fmt: skip
        except SinkUnavailable:
            if last_failures and any(s not in _RETRYABLE_STATUS for s, _ in last_failures):
                raise SinkError(f"bulk items keep failing: {last_failures[:3]}") from None
            raise
        return result

    def save_positions(self, marks: Sequence[Mark]) -> None:
        """Refresh first: a position promises that its changes are *searchable*, and written
        documents are not until a refresh (Elasticsearch's own comes every second). One
        refresh per position step (about one a checkpoint) costs what the periodic one does."""

        def attempt() -> None:
            try:
                self.client.indices.refresh(index=[self.index(t) for t in self.specs])
                self.positions.save(marks)
            except (TransportConnectionError, ConnectionTimeout) as err:
                raise _Retryable(str(err)) from err
            except ApiError as err:
                if err.meta.status in _RETRYABLE_STATUS:
                    raise _Retryable(f"HTTP {err.meta.status}: {err.message}") from err
                raise SinkError(f"positions refused: {err}") from err

        sink_backoff(attempt, self.retry, (_Retryable,), what="elasticsearch positions")

    def _operations(self, outputs: Sequence[Output]) -> list[dict[str, Any]]:
        ops: list[dict[str, Any]] = []
        for o in outputs:
            ops.append(
                {
                    "index": {
                        "_index": self.index(o.target),
                        "_id": o.id,
                        "version": o.version,
                        "version_type": "external",
                    }
                }
            )
            ops.append(o.body)
        return ops

    def close(self) -> None:
        self.client.close()

    # ------------------------------------------------------------------ for tests and ops

    def drop(self) -> None:
        """Delete this sink's indices (and so its aliases): test clean-up, rebuild drills."""
        for target in self.specs:
            self.client.indices.delete(index=self.index(target), ignore_unavailable=True)
        self.client.indices.delete(index=self.positions.index, ignore_unavailable=True)

    def wait_searchable(self) -> None:
        """Make every write so far visible to search (tests; production relies on refresh)."""
        started = time.monotonic()
        self.client.indices.refresh(index=[self.alias(t) for t in self.specs])
        log.debug("refreshed in %.1f ms", (time.monotonic() - started) * 1000)


def _reason(item: Mapping[str, Any]) -> str:
    error = item.get("error") or {}
    if isinstance(error, Mapping):
        return f"{error.get('type')}: {error.get('reason')}"
    return str(error)
