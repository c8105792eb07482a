"""Reads of the write side: an aggregate's state (now, as of a time, as of a version) and its
events. Replayed from the store, so they are exact at any moment (no read model involved)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query

from entrypoints.service.errors import ApiError, as_of_time, classify
from hindsight.commands import AggregateNotFound, CommandHandler
from hindsight.storable import UnstorableValue, check_text


def reads_router(handler: CommandHandler) -> APIRouter:
    router = APIRouter()
    domain = handler.domain

    def known_address(aggregate_type: str, aggregate_id: str) -> None:
        """Also refuses an id no store can hold (PostgreSQL would fail on a NUL in it)."""
        try:
            check_text(aggregate_id, "aggregate_id")
        except UnstorableValue as err:
            raise classify(err, domain) from None
        if aggregate_type not in domain.aggregates:
            raise ApiError(
                404,
                "unknown_aggregate_type",
                f"no aggregate type {aggregate_type!r}; known: "
                f"{', '.join(sorted(domain.aggregates))}",
            )

    @router.get("/aggregates/{aggregate_type}/{aggregate_id}", tags=["reads"])
    def get_state(
        aggregate_type: str,
        aggregate_id: str,
        as_of: str | None = Query(default=None, description="ISO timestamp: state as known then"),
        version: int | None = Query(default=None, ge=0, description="state as of this version"),
    ) -> dict[str, Any]:
        known_address(aggregate_type, aggregate_id)
        try:
            state, at = handler.state(
                aggregate_type, aggregate_id, as_of=as_of_time(as_of), as_of_version=version
            )
        except AggregateNotFound as err:
            raise ApiError(404, "not_found", str(err)) from None
        return {
            "aggregate_type": aggregate_type,
            "aggregate_id": aggregate_id,
            "version": at,
            "as_of": as_of,
            "state": state,
        }

    @router.get("/aggregates/{aggregate_type}/{aggregate_id}/events", tags=["reads"])
    def get_events(aggregate_type: str, aggregate_id: str) -> dict[str, Any]:
        known_address(aggregate_type, aggregate_id)
        try:
            events = handler.history(aggregate_type, aggregate_id)
        except AggregateNotFound as err:
            raise ApiError(404, "not_found", str(err)) from None
        return {
            "aggregate_type": aggregate_type,
            "aggregate_id": aggregate_id,
            "events": [e.to_dict() for e in events],
        }

    return router
