"""Errors are answers: every failure of a request becomes a JSON body with a status.

Malformed input is a 422 naming the field and the reason, an unknown aggregate a 404, a stale
expected version or a refused command a 409. `classify` is the one mapping from the platform's
and the domain's exceptions to those answers; anything it does not know is re-raised, because
an input that still raises is a bug (the fuzz tests post random bodies to prove there is none).
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from hindsight.aggregate import DomainError
from hindsight.commands import ContractViolation
from hindsight.domain import Domain
from hindsight.events import parse_time
from hindsight.eventstore.base import ConcurrencyError, IdempotencyKeyReused
from hindsight.storable import UnstorableValue


class ApiError(Exception):
    def __init__(
        self,
        status: int,
        error: str,
        message: str,
        *,
        headers: dict[str, str] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(message)
        self.status, self.error, self.message, self.extra = status, error, message, extra
        self.headers = headers


def invalid(field: str, reason: str, message: str, error: str = "invalid_request") -> ApiError:
    """A 422 that names the field and the reason."""
    return ApiError(422, error, message, field=field, reason=reason)


def install_handlers(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def _api_error(_request: Request, err: ApiError) -> JSONResponse:
        body = {"error": err.error, "message": err.message, **err.extra}
        return JSONResponse(status_code=err.status, content=body, headers=err.headers)

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


def classify(err: Exception, domain: Domain) -> ApiError:
    """The answer for an exception a command or a read raised; re-raises what it does not know."""
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
        return invalid("Idempotency-Key", str(err), str(err), "idempotency_key_reused")
    if isinstance(err, DomainError):
        return ApiError(409, err.code, str(err), details=getattr(err, "details", None))
    raise err


async def read_body(request: Request) -> dict[str, Any]:
    """The request's JSON object, or a 422 saying why it is not one."""
    raw = await request.body()
    try:
        body = json.loads(raw) if raw else None
    except (ValueError, UnicodeDecodeError) as err:
        message = f"body is not valid JSON: {err}"
        raise invalid("body", "not valid JSON", message, "invalid_json") from None
    except RecursionError:  # the stdlib parser recurses once per nesting level
        message = "body is nested too deeply to be a command"
        raise invalid("body", "nested too deeply", message, "invalid_json") from None
    if not isinstance(body, dict):
        raise invalid("body", "must be a JSON object", "body must be a JSON object")
    return body


def expected_version(if_match: str | None) -> int | None:
    """The version an `If-Match` header names (`"3"`, `W/"3"` or `3`)."""
    if if_match is None:
        return None
    value = if_match.strip().strip('"').removeprefix("W/").strip('"')
    if not value.isdigit():
        reason = "must be a non-negative integer version"
        raise invalid("If-Match", reason, "If-Match must be a stream version")
    return int(value)


def as_of_time(as_of: str | None) -> datetime | None:
    if as_of is None:
        return None
    try:
        return parse_time(as_of)
    except ValueError:
        message = f"as_of {as_of!r} is not an ISO timestamp"
        raise invalid("as_of", "must be an ISO 8601 timestamp", message) from None
