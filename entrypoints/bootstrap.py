"""The one place that wires settings, the domain, the store and the handler together.

Entry points (HTTP service, CLI, relay, tests) call these functions and never construct
adapters themselves, so a backend or a domain is swapped by configuration alone.
"""

from __future__ import annotations

from functools import lru_cache

from connectors.kafka_publisher import KafkaPublisher
from entrypoints.relay_hold import RelayHold
from hindsight.commands import CommandHandler
from hindsight.contracts.sealing import sealing_policy_for
from hindsight.contracts.validator import validator_for
from hindsight.domain import Domain
from hindsight.eventstore.base import EventStore
from hindsight.eventstore.codecs import upcasters_for
from hindsight.eventstore.factory import open_store
from hindsight.plugins import load
from hindsight.relay import FileCheckpoint, OutboxRelay
from hindsight.settings import Settings


@lru_cache(maxsize=8)
def load_domain(spec: str) -> Domain:
    """`package.module:ATTRIBUTE` -> the Domain it names (HINDSIGHT_DOMAIN)."""
    domain = load(spec, default="DOMAIN")
    if not isinstance(domain, Domain):
        raise TypeError(f"{spec} is a {type(domain).__name__}, not a hindsight Domain")
    return domain


def store(settings: Settings, backend: str | None = None) -> EventStore:
    """The event store, sealing what these settings' contracts mark `encrypted` (reads open
    it while the subject's key exists: hindsight.shredding)."""
    domain = load_domain(settings.domain)
    return open_store(
        settings,
        backend or settings.eventstore_backend,  # type: ignore[arg-type]
        upcasters=upcasters_for(domain),
        policy=sealing_policy_for(tuple(settings.contracts_dirs)),
    )


def command_handler(settings: Settings, backend: str | None = None) -> CommandHandler:

    # the contracts of *these* settings, which a test's private copy may point elsewhere
    return CommandHandler(
        store(settings, backend),
        load_domain(settings.domain),
        snapshot_every=settings.snapshot_every,
        event_check=validator_for(tuple(settings.contracts_dirs)).validate_data,
    )


def checkpoint_name(settings: Settings, backend: str) -> str:
    """One relay position per store: stores in other PostgreSQL schemas keep their own."""
    if backend == "postgres" and settings.postgres_schema != "public":
        return f"postgres-{settings.postgres_schema}.position"
    return f"{backend}.position"


def relay(settings: Settings, backend: str | None = None) -> OutboxRelay:

    backend = backend or settings.eventstore_backend
    domain = load_domain(settings.domain)
    held = RelayHold(settings)
    return OutboxRelay(
        store(settings, backend).stored(),  # sealed fields stay sealed on Kafka
        KafkaPublisher(settings.kafka_bootstrap, partitions=settings.kafka_partitions),
        FileCheckpoint(settings.home / "relay" / f"{checkpoint_name(settings, backend)}.json"),
        domain.data_domain_of,
        batch_size=settings.relay_batch_size,
        topic_prefix=settings.kafka_topic_prefix,
        domains=domain.data_domains(),
        hold=held.active,
        on_hold=held.acknowledge,
    )
