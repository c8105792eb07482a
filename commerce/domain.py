"""The commerce domain as the platform sees it: one `Domain` value the bootstrap plugs in."""

from __future__ import annotations

from commerce import AGGREGATES, COMMANDS, command_to_dict, parse_command, target
from commerce.base import InvalidCommand, NotFound, UnknownCommand
from commerce.flows import plan
from commerce.upcasters import UPCASTERS
from commerce.workload import commands as workload
from hindsight.domain import Domain

COMMERCE = Domain(
    name="commerce",
    aggregates=AGGREGATES,
    commands=COMMANDS,
    parse_command=parse_command,
    target=target,
    command_to_dict=command_to_dict,
    plan=plan,
    upcasters=UPCASTERS,
    invalid_errors=(InvalidCommand, UnknownCommand),
    not_found_errors=(NotFound,),
    workload=lambda seed, scale: workload(seed, scale=scale),
)
