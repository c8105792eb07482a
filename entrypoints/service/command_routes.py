"""One POST per command of the domain, at `/<data domain>/<kebab command name>`.

The body is the command's fields (its JSON schema is in the OpenAPI document); optional
headers carry the retry-safe `Idempotency-Key`, the expected version (`If-Match`) and a
correlation id. The handler runs in a worker thread, so the event loop never waits on a
commit.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import APIRouter, Header, Request
from starlette.concurrency import run_in_threadpool

from entrypoints.service.errors import ApiError, classify, expected_version, read_body
from hindsight.commands import CommandHandler
from hindsight.naming import command_path


def command_router(handler: CommandHandler) -> APIRouter:
    router = APIRouter()
    domain = handler.domain
    for name, cls in domain.commands.items():
        aggregate_type = getattr(cls, "aggregate_type", "")
        data_domain = domain.data_domain_of(aggregate_type) if aggregate_type else domain.name
        router.add_api_route(
            command_path(data_domain, name),
            _endpoint(handler, name),
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
    return router


def _endpoint(handler: CommandHandler, command_name: str) -> Callable[..., Awaitable[Any]]:
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
                expected_version=expected_version(if_match),
                idempotency_key=idempotency_key,
                correlation_id=request.headers.get("x-correlation-id"),
            )
        except ApiError:
            raise
        except Exception as err:  # noqa: BLE001 - classified or re-raised
            raise classify(err, handler.domain) from None
        return result.to_dict()

    return endpoint
