"""The command and query service: one POST per command, reads of state, history, time travel.

Assembled here from its parts: `errors` (every failure is an answer: 422 with the field and
the reason, 404, 409), `command_routes` (one POST per command), `reads` (state, history, as of
any moment) and `queries` (the read models: search and graph), plus health, the OpenAPI
document with each command's schema, and the Neo4j Browser guide.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.openapi.utils import get_openapi
from fastapi.responses import HTMLResponse
from fastapi_offline import FastAPIOffline

from entrypoints.service import errors
from entrypoints.service.command_routes import command_router
from entrypoints.service.console import console_router
from entrypoints.service.queries import query_router
from entrypoints.service.reads import reads_router
from entrypoints.service.schemas import component_schemas
from hindsight.commands import CommandHandler
from hindsight.settings import Settings


def create_app(handler: CommandHandler, settings: Settings | None = None) -> FastAPI:
    domain = handler.domain
    # Swagger UI and ReDoc from the assets fastapi-offline ships, not a CDN: /docs works on a
    # machine without internet
    app = FastAPIOffline(
        title=f"Hindsight command service ({domain.name})",
        description="Commands become immutable events; reads replay them, at any past moment.",
        version="0.1.0",
    )
    errors.install_handlers(app)
    app.include_router(command_router(handler))
    app.include_router(reads_router(handler))

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
        app.include_router(query_router(settings, handler.store))
        app.include_router(console_router(settings, handler.store))  # the page at /
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
