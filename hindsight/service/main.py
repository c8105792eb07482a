"""ASGI entry point: `uvicorn hindsight.service.main:app` (what `make serve` runs)."""

from hindsight import bootstrap
from hindsight.service.app import create_app
from hindsight.settings import get_settings

app = create_app(bootstrap.command_handler(get_settings()), get_settings())
