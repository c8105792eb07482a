"""The command and query service: one POST per command, reads of state, history, time travel.

Errors are answers, never crashes: malformed input is a 422 naming the field and the reason,
an unknown aggregate a 404, a stale expected version or a refused command a 409. Any input
that still raised would be a bug; the fuzz tests post random bodies to prove there is none.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Header, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.openapi.utils import get_openapi
from fastapi.responses import HTMLResponse, JSONResponse
from starlette.concurrency import run_in_threadpool

from entrypoints.service.queries import query_router
from entrypoints.service.schemas import component_schemas
from hindsight.aggregate import DomainError
from hindsight.commands import AggregateNotFound, CommandHandler, ContractViolation
from hindsight.events import parse_time
from hindsight.eventstore.base import ConcurrencyError, IdempotencyKeyReused
from hindsight.naming import command_path
from hindsight.settings import Settings
from hindsight.storable import UnstorableValue, check_text


class ApiError(Exception):
    def __init__(self, status: int, error: str, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.status, self.error, self.message, self.extra = status, error, message, extra


def create_app(handler: CommandHandler, settings: Settings | None = None) -> FastAPI:
    domain = handler.domain
    app = FastAPI(
        title=f"Hindsight command service ({domain.name})",
        description="Commands become immutable events; reads replay them, at any past moment.",
        version="0.1.0",
    )

    @app.exception_handler(ApiError)
    async def _api_error(_request: Request, err: ApiError) -> JSONResponse:
        body = {"error": err.error, "message": err.message, **err.extra}
        return JSONResponse(status_code=err.status, content=body)

    @app.exception_handler(RequestValidationError)
    async def _validation(_request: Request, err: RequestValidationError) -> JSONResponse:
        first = err.errors()[0] if err.errors() else {"loc": ["request"], "msg": "invalid"}
        field = ".".join(str(p) for p in first.get("loc", ()) if p not in ("body", "query"))
        return JSONResponse(
            status_code=422,
            content={
                "error": "invalid_request",
                "message": f"{field}: {first.get('msg')}",
                "field": field,
                "reason": first.get("msg"),
            },
        )

    def classify(err: Exception) -> ApiError:
        if isinstance(err, UnstorableValue):
            return ApiError(422, "unstorable_value", str(err), field=err.field, reason=err.reason)
        if isinstance(err, domain.invalid_errors):
            field = getattr(err, "field", None)
            reason = getattr(err, "reason", str(err))
            code = getattr(err, "code", "invalid_command")
            return ApiError(422, code, str(err), field=field, reason=reason)
        if isinstance(err, domain.not_found_errors):
            return ApiError(404, getattr(err, "code", "not_found"), str(err))
        if isinstance(err, ContractViolation):
            return ApiError(422, "contract_violation", str(err), field=err.field, reason=err.reason)
        if isinstance(err, ConcurrencyError):
            return ApiError(409, "version_conflict", str(err))
        if isinstance(err, IdempotencyKeyReused):
            return ApiError(
                422, "idempotency_key_reused", str(err), field="Idempotency-Key", reason=str(err)
            )
        if isinstance(err, DomainError):
            return ApiError(409, err.code, str(err), details=getattr(err, "details", None))
        raise err

    async def read_body(request: Request) -> dict[str, Any]:
        raw = await request.body()
        try:
            body = json.loads(raw) if raw else None
        except (ValueError, UnicodeDecodeError) as err:
            raise ApiError(
                422,
                "invalid_json",
                f"body is not valid JSON: {err}",
                field="body",
                reason="not valid JSON",
            ) from None
        except RecursionError:  # the stdlib parser recurses once per nesting level
            raise ApiError(
                422,
                "invalid_json",
                "body is nested too deeply to be a command",
                field="body",
                reason="nested too deeply",
            ) from None
        if not isinstance(body, dict):
            raise ApiError(
                422,
                "invalid_request",
                "body must be a JSON object",
                field="body",
                reason="must be a JSON object",
            )
        return body

    def expected(if_match: str | None) -> int | None:
        if if_match is None:
            return None
        value = if_match.strip().strip('"').removeprefix("W/").strip('"')
        if not value.isdigit():
            raise ApiError(
                422,
                "invalid_request",
                "If-Match must be a stream version",
                field="If-Match",
                reason="must be a non-negative integer version",
            )
        return int(value)

    for name, cls in domain.commands.items():
        aggregate_type = getattr(cls, "aggregate_type", "")
        data_domain = domain.data_domain_of(aggregate_type) if aggregate_type else domain.name

        def make(command_name: str) -> Any:
            async def endpoint(
                request: Request,
                idempotency_key: str | None = Header(
                    default=None,
                    max_length=200,
                    description="retry-safe key: the same key returns the first answer",
                ),
                if_match: str | None = Header(
                    default=None, description="expected version of the addressed aggregate"
                ),
            ) -> dict[str, Any]:
                body = await read_body(request)
                try:
                    result = await run_in_threadpool(
                        handler.execute_json,
                        command_name,
                        body,
                        expected_version=expected(if_match),
                        idempotency_key=idempotency_key,
                        correlation_id=request.headers.get("x-correlation-id"),
                    )
                except ApiError:
                    raise
                except Exception as err:  # noqa: BLE001 - classified or re-raised
                    raise classify(err) from None
                return result.to_dict()

            return endpoint

        app.add_api_route(
            command_path(data_domain, name),
            make(name),
            methods=["POST"],
            name=name,
            summary=name,
            description=(cls.__doc__ or "").strip(),
            tags=[data_domain],
            openapi_extra={
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {"schema": {"$ref": f"#/components/schemas/{name}"}}
                    },
                }
            },
        )

    def parse_as_of(as_of: str | None) -> datetime | None:
        if as_of is None:
            return None
        try:
            return parse_time(as_of)
        except ValueError:
            raise ApiError(
                422,
                "invalid_request",
                f"as_of {as_of!r} is not an ISO timestamp",
                field="as_of",
                reason="must be an ISO 8601 timestamp",
            ) from None

    def known_address(aggregate_type: str, aggregate_id: str) -> None:
        """Also refuses an id no store can hold (PostgreSQL would fail on a NUL in it)."""
        try:
            check_text(aggregate_id, "aggregate_id")
        except UnstorableValue as err:
            raise classify(err) from None
        if aggregate_type not in domain.aggregates:
            raise ApiError(
                404,
                "unknown_aggregate_type",
                f"no aggregate type {aggregate_type!r}; known: "
                f"{', '.join(sorted(domain.aggregates))}",
            )

    @app.get("/aggregates/{aggregate_type}/{aggregate_id}", tags=["reads"])
    def get_state(
        aggregate_type: str,
        aggregate_id: str,
        as_of: str | None = Query(default=None, description="ISO timestamp: state as known then"),
        version: int | None = Query(default=None, ge=0, description="state as of this version"),
    ) -> dict[str, Any]:
        known_address(aggregate_type, aggregate_id)
        try:
            state, at = handler.state(
                aggregate_type, aggregate_id, as_of=parse_as_of(as_of), as_of_version=version
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

    @app.get("/aggregates/{aggregate_type}/{aggregate_id}/events", tags=["reads"])
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

    @app.get("/health", tags=["ops"])
    def health() -> dict[str, Any]:
        return {
            "status": "ok",
            "domain": domain.name,
            "last_position": handler.store.last_position(),
        }

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(
                title=app.title, version=app.version, description=app.description, routes=app.routes
            )
            schema.setdefault("components", {}).setdefault("schemas", {}).update(
                component_schemas(dict(domain.commands))
            )
            app.openapi_schema = schema
        return app.openapi_schema

    if settings is not None:
        app.include_router(query_router(settings))
        # Neo4j Browser fetches its guide from the page's origin: allow exactly that origin
        browser = [f"http://{h}:{settings.neo4j_http_port}" for h in ("localhost", settings.host)]
        app.add_middleware(
            CORSMiddleware, allow_origins=browser, allow_methods=["GET"], allow_headers=["*"]
        )

    @app.get("/guide", tags=["ops"], response_class=HTMLResponse)
    def neo4j_browser_guide() -> str:
        """The Neo4j Browser guide: `:play http://localhost:8000/guide` (shown on connect)."""
        return (Path(__file__).parent / "static" / "neo4j-guide.html").read_text()

    app.openapi = openapi  # type: ignore[method-assign]
    return app
