"""`hindsight do <command>` and the reads: the same commands as the HTTP service, generated
from the domain registry (one sub-command per command, one option per field)."""

from __future__ import annotations

import dataclasses
import inspect
import json
import typing
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from entrypoints import bootstrap
from hindsight.events import parse_time
from hindsight.naming import kebab
from hindsight.settings import get_settings

console = Console()
do_app = typer.Typer(
    help="Run a domain command (the same as a POST to the service).", no_args_is_help=True
)


def _handler():  # noqa: ANN202 - built lazily: `--help` must not open a store
    return bootstrap.command_handler(get_settings())


def _report_error(err: Exception) -> None:
    field = getattr(err, "field", None)
    where = f" [bold]{field}[/]:" if field else ""
    console.print(f"[red]{type(err).__name__}[/]{where} {err}")
    raise typer.Exit(1)


def _option_type(tp: Any) -> Any:
    args = [a for a in typing.get_args(tp) if a is not type(None)]
    base = args[0] if typing.get_origin(tp) in (typing.Union, __import__("types").UnionType) else tp
    return base if base in (int, str) else str  # complex values (order lines) as JSON


def _field_option(f: dataclasses.Field[Any], hint: Any) -> inspect.Parameter:
    """One `--field` option per command field: required without a default, JSON for tuples."""
    tp = _option_type(hint)
    doc = f.metadata.get("doc", "")
    if tp is str and tp is not hint and typing.get_origin(hint) is tuple:
        doc += " (JSON)"
    required = f.default is dataclasses.MISSING
    return inspect.Parameter(
        f.name,
        inspect.Parameter.KEYWORD_ONLY,
        annotation=Annotated[
            tp | None if not required else tp,
            typer.Option(help=doc, show_default=not required),
        ],
        default=... if required else f.default,
    )


_HEADERS = [  # what the service takes as headers, here as options of every command
    inspect.Parameter(
        "idempotency_key",
        inspect.Parameter.KEYWORD_ONLY,
        annotation=Annotated[str | None, typer.Option(help="retry-safe key")],
        default=None,
    ),
    inspect.Parameter(
        "expected_version",
        inspect.Parameter.KEYWORD_ONLY,
        annotation=Annotated[int | None, typer.Option(help="fail unless at this version")],
        default=None,
    ),
]


def _payload(hints: dict[str, Any], options: dict[str, Any]) -> dict[str, Any]:
    """The command's JSON body from the options (tuple fields were given as JSON text)."""
    payload: dict[str, Any] = {}
    for k, v in options.items():
        if isinstance(v, str) and typing.get_origin(hints[k]) is tuple:
            try:
                v = json.loads(v)
            except ValueError:
                console.print(f"[red]InvalidCommand[/] [bold]{k}[/]: not valid JSON")
                raise typer.Exit(1) from None
        payload[k] = v
    return payload


def _make(name: str, cls: type) -> None:
    hints = typing.get_type_hints(cls)
    params = [_field_option(f, hints[f.name]) for f in dataclasses.fields(cls)] + _HEADERS

    def run(**kwargs: Any) -> None:
        key = kwargs.pop("idempotency_key")
        expected = kwargs.pop("expected_version")
        payload = _payload(hints, kwargs)
        try:
            result = _handler().execute_json(
                name, payload, idempotency_key=key, expected_version=expected
            )
        except Exception as err:  # noqa: BLE001 - every refusal is reported, none is a crash
            _report_error(err)
        console.print_json(data=result.to_dict())

    run.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
    doc = (cls.__doc__ or "").strip()
    if not doc or doc.startswith(f"{name}("):  # the dataclass default: a signature, not prose
        doc = f"{name}, decided by the {getattr(cls, 'aggregate_type', '?')} aggregate."
    run.__doc__ = doc.splitlines()[0]
    do_app.command(kebab(name), help=run.__doc__)(run)


def register_domain_commands() -> None:
    domain = bootstrap.load_domain(get_settings().domain)
    for name, cls in domain.commands.items():
        _make(name, cls)


def get(
    aggregate_type: Annotated[str, typer.Argument(help="e.g. order, customer, product, stock")],
    aggregate_id: str,
    as_of: Annotated[
        str | None, typer.Option(help="ISO timestamp: the state as known then")
    ] = None,
    version: Annotated[int | None, typer.Option(help="the state as of this version")] = None,
) -> None:
    """An aggregate's current state, or its state at a past time or version."""

    handler = _handler()
    try:
        state, at = handler.state(
            aggregate_type,
            aggregate_id,
            as_of=parse_time(as_of) if as_of else None,
            as_of_version=version,
        )
    except Exception as err:  # noqa: BLE001
        _report_error(err)
    console.print_json(
        data={
            "aggregate_type": aggregate_type,
            "aggregate_id": aggregate_id,
            "version": at,
            "state": state,
        }
    )


def history(aggregate_type: str, aggregate_id: str) -> None:
    """An aggregate's events, oldest first."""
    handler = _handler()
    try:
        events = handler.history(aggregate_type, aggregate_id)
    except Exception as err:  # noqa: BLE001
        _report_error(err)
    table = Table(title=f"{aggregate_type}/{aggregate_id}")
    for col in ("version", "position", "event", "recorded_at", "data"):
        table.add_column(col)
    for e in events:
        table.add_row(
            str(e.version),
            str(e.position),
            e.event_type,
            e.recorded_at.isoformat(timespec="seconds"),
            json.dumps(e.data, ensure_ascii=False)[:80],
        )
    console.print(table)
