"""ASGI entry point: `uvicorn entrypoints.service.main:app` (what `make serve` runs)."""

from entrypoints import bootstrap
from entrypoints.service.app import create_app
from hindsight.settings import get_settings

app = create_app(bootstrap.command_handler(get_settings()), get_settings())
