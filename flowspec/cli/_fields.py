"""The settings of a node kind as a user writes them: YAML names, types, defaults.

Read from the pydantic fields of the kind's spec model, so aliases appear as users write
them (``in``, not ``in_``), constraints as ``int (> 0)``, and nested settings (a ``net`` or
a ``decoder``) are listed field by field under dotted names.
"""

from __future__ import annotations

import json
import types
from dataclasses import dataclass
from enum import Enum
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

__all__ = ["FieldRow", "field_rows", "type_name"]

#: How deep nested settings are expanded (``decoder.net.hidden`` is depth 3).
MAX_DEPTH = 3
_BOUNDS = (("gt", ">"), ("ge", ">="), ("lt", "<"), ("le", "<="))


@dataclass(frozen=True)
class FieldRow:
    """One setting: its dotted YAML name, type, default (or "required") and description."""

    name: str
    type: str
    default: str
    description: str


def _constraints(metadata: list[Any]) -> list[str]:
    parts = []
    for item in metadata:
        for attribute, symbol in _BOUNDS:
            bound = getattr(item, attribute, None)
            if bound is not None:
                parts.append(
                    f"{symbol} {bound:g}" if isinstance(bound, float) else f"{symbol} {bound}"
                )
    return parts


def type_name(annotation: Any, metadata: list[Any] | None = None) -> str:
    """A YAML user's name of a type: ``int (> 0)``, ``list[int (> 0)]``, ``"half" | "alternate"``,
    ``str | null``; settings models are ``mapping``, parts chosen by kind ``{kind: name}``."""
    origin, args = get_origin(annotation), get_args(annotation)
    if origin is Annotated:
        return type_name(args[0], list(args[1:]))
    if origin is Literal:
        text = " | ".join(json.dumps(arg) for arg in args)
    elif isinstance(annotation, type) and issubclass(annotation, Enum):
        text = " | ".join(json.dumps(member.value) for member in annotation)
    elif origin in (Union, types.UnionType):
        text = " | ".join(type_name(arg) for arg in args)
    elif origin is not None:
        name = getattr(origin, "__name__", str(origin))
        text = f"{name}[{', '.join(type_name(arg) for arg in args)}]"
    elif annotation is type(None):
        text = "null"
    elif isinstance(annotation, type) and issubclass(annotation, BaseModel):
        # A part chosen by kind (a density, a network) names its kind.
        kind = annotation.model_fields.get("kind")
        text = (
            f"{{kind: {kind.default}}}"
            if kind is not None and isinstance(kind.default, str)
            else "mapping"
        )
    elif isinstance(annotation, type):
        text = annotation.__name__
    else:
        text = str(annotation).replace("typing.", "")
    bounds = _constraints(metadata or [])
    return f"{text} ({', '.join(bounds)})" if bounds else text


def _value(value: Any) -> str:
    if isinstance(value, BaseModel):
        value = value.model_dump(by_alias=True, mode="json")
    try:
        return json.dumps(value)
    except TypeError:
        return repr(value)


def _default(field: FieldInfo) -> str:
    if field.default_factory is not None:
        return _value(field.get_default(call_default_factory=True))
    if field.default is PydanticUndefined:
        return "required"
    return _value(field.default)


def _settings_model(annotation: Any) -> type[BaseModel] | None:
    """The settings model a field holds (also through ``X | None``), if any."""
    candidates = [annotation] if get_origin(annotation) is None else list(get_args(annotation))
    models = [c for c in candidates if isinstance(c, type) and issubclass(c, BaseModel)]
    others = [c for c in candidates if c is not type(None) and c not in models]
    return models[0] if len(models) == 1 and not others else None


def field_rows(
    model: type[BaseModel],
    prefix: str = "",
    skip: tuple[str, ...] = (),
    depth: int = 1,
    nested: bool = True,
) -> list[FieldRow]:
    """Every field of ``model`` (but ``skip``), nested settings expanded under dotted names
    (unless not ``nested``)."""
    rows: list[FieldRow] = []
    for name, field in model.model_fields.items():
        if name in skip:
            continue
        key = prefix + (field.alias or name)
        inner = _settings_model(field.annotation)
        if inner is None and field.default_factory is not None:
            # A field choosing among kinds: expand the kind it takes when left out.
            inner = _settings_model(type(field.get_default(call_default_factory=True)))
        expand = nested and inner is not None and depth < MAX_DEPTH
        default = _default(field)
        rows.append(
            FieldRow(
                key,
                type_name(field.annotation, field.metadata),
                f"see {key}.*" if expand and default != "required" else default,
                " ".join((field.description or "").split()),
            )
        )
        if expand and inner is not None:
            rows += field_rows(inner, prefix=f"{key}.", depth=depth + 1)
    return rows
