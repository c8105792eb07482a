"""OpenAPI request schemas for commands, derived from the command dataclasses.

The schemas document the API; they do not validate it. Validation is the domain's own
(commands check their fields on construction), so the HTTP service, the CLI and the workload
generator reject exactly the same inputs with exactly the same field and reason.
"""

from __future__ import annotations

import dataclasses
import typing
from typing import Any

from pydantic import BaseModel, Field, create_model


def _convert(tp: Any, models: dict[str, type[BaseModel]]) -> Any:
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if dataclasses.is_dataclass(tp) and isinstance(tp, type):
        return model_for(tp, models)
    if origin is tuple and len(args) == 2 and args[1] is Ellipsis:
        return list[_convert(args[0], models)]  # type: ignore[misc]
    if origin in (typing.Union, getattr(__import__("types"), "UnionType", None)):
        converted = tuple(_convert(a, models) for a in args)
        return typing.Union[converted]  # noqa: UP007 - built dynamically
    return tp


def model_for(cls: type, models: dict[str, type[BaseModel]]) -> type[BaseModel]:
    if cls.__name__ in models:
        return models[cls.__name__]
    hints = typing.get_type_hints(cls)
    spec: dict[str, Any] = {}
    for f in dataclasses.fields(cls):
        default = ... if f.default is dataclasses.MISSING else f.default
        spec[f.name] = (
            _convert(hints[f.name], models),
            Field(default, description=f.metadata.get("doc")),
        )
    model = create_model(cls.__name__, __doc__=cls.__doc__, **spec)
    models[cls.__name__] = model
    return model


def component_schemas(commands: dict[str, type]) -> dict[str, Any]:
    """JSON schemas of every command (and nested type), keyed for #/components/schemas."""
    models: dict[str, type[BaseModel]] = {}
    out: dict[str, Any] = {}
    for cls in commands.values():
        schema = model_for(cls, models).model_json_schema(
            ref_template="#/components/schemas/{model}"
        )
        out.update(schema.pop("$defs", {}))
        out[cls.__name__] = schema
    return out
