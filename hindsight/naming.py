"""How names are spelt where a person reads them: command routes and CLI sub-commands.

`PlaceOrder` is `place-order` in a URL and on the command line, under its data domain
(`/orders/place-order`); the service, the CLI and the traffic driver spell it from here, so a
route the driver calls is always a route the service serves.
"""

from __future__ import annotations

import re


def kebab(name: str) -> str:
    """`PlaceOrder` -> `place-order`."""
    return re.sub(r"(?<!^)(?=[A-Z])", "-", name).lower()


def command_path(data_domain: str, command: str) -> str:
    """The HTTP route of a command: `/<data domain>/<kebab command name>`."""
    return f"/{data_domain}/{kebab(command)}"
