"""The JSON Schema of spec files, for editors (the YAML language server) and other tools.

Pydantic writes JSON Schema draft 2020-12; editors mostly speak draft 7. The schema of
:func:`flowspec.spec.document.document_model` is rewritten to draft 7: ``$defs`` become
``definitions`` (and every reference follows), ``prefixItems`` become an ``items`` list
with ``additionalItems``, and a ``$ref`` with sibling keywords (which draft 7 ignores)
is wrapped in ``allOf``. Discriminated unions keep pydantic's ``discriminator``
annotation (unknown keywords are ignored by draft-7 validators), and the discriminating
property becomes required in every member, as pydantic requires it.

Spec files point at the committed copy with a first line like::

    # yaml-language-server: $schema=../schemas/flowspec.schema.json
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from flowspec.spec.document import SPEC_VERSION, document_model

__all__ = [
    "DRAFT_7",
    "json_schema",
    "schema_text",
    "subschemas",
    "to_draft7",
    "write_schema",
]

DRAFT_7 = "http://json-schema.org/draft-07/schema#"
_DEFS_2020 = "#/$defs/"
_DEFS_7 = "#/definitions/"
#: Keywords whose value is a name -> schema map, a list of schemas, or one schema.
_SCHEMA_MAPS = frozenset({"properties", "patternProperties", "$defs", "definitions"})
_SCHEMA_LISTS = frozenset({"allOf", "anyOf", "oneOf", "prefixItems"})
_SCHEMA_VALUES = frozenset(
    {
        "items",
        "additionalItems",
        "additionalProperties",
        "contains",
        "propertyNames",
        "not",
        "if",
        "then",
        "else",
    }
)


def json_schema() -> dict[str, Any]:
    """The draft-7 JSON Schema of a spec file, covering every registered node kind."""
    schema = to_draft7(document_model().model_json_schema(by_alias=True))
    header = {
        "$schema": DRAFT_7,
        "title": "flowspec model spec",
        "description": f"A flowspec (format version {SPEC_VERSION}) normalizing-flow model: "
        "inputs, reusable blocks and a graph of nodes ending in distributions.",
    }
    return header | {key: value for key, value in schema.items() if key not in header}


def to_draft7(schema: dict[str, Any]) -> dict[str, Any]:
    """A draft-7 copy of a draft 2020-12 schema as pydantic writes it."""
    converted = _convert(schema)
    if "$defs" in converted:
        converted["definitions"] = converted.pop("$defs")
    _require_discriminators(converted)
    return converted


def schema_text() -> str:
    """:func:`json_schema` as the committed file holds it: two-space indent, key order
    kept, ASCII only, trailing newline."""
    return json.dumps(json_schema(), indent=2, sort_keys=False) + "\n"


def write_schema(path: str | Path) -> None:
    """Write :func:`schema_text` to ``path``."""
    Path(path).write_text(schema_text(), encoding="utf-8")


def subschemas(schema: Any) -> Iterator[dict[str, Any]]:
    """Every schema object in ``schema``, itself included (draft 7 or 2020-12 keywords)."""
    if not isinstance(schema, dict):
        return
    yield schema
    for key, value in schema.items():
        if key in _SCHEMA_MAPS:
            for sub in value.values():
                yield from subschemas(sub)
        elif key in _SCHEMA_LISTS or (key == "items" and isinstance(value, list)):
            for sub in value:
                yield from subschemas(sub)
        elif key in _SCHEMA_VALUES:
            yield from subschemas(value)


def _ref(value: str) -> str:
    return _DEFS_7 + value[len(_DEFS_2020) :] if value.startswith(_DEFS_2020) else value


def _convert(schema: Any) -> Any:
    """Rewrite one (sub)schema, and every subschema inside it, to draft 7.

    Only keywords that hold schemas are descended into, so values such as ``default``,
    ``const`` or ``enum`` are copied as they are.
    """
    if not isinstance(schema, dict):
        return schema
    out: dict[str, Any] = {}
    for key, value in schema.items():
        if key in _SCHEMA_MAPS:
            out[key] = {name: _convert(sub) for name, sub in value.items()}
        elif key in _SCHEMA_LISTS or (key == "items" and isinstance(value, list)):
            out[key] = [_convert(sub) for sub in value]
        elif key in _SCHEMA_VALUES:
            out[key] = _convert(value)
        elif key == "$ref":
            out[key] = _ref(value)
        elif key == "discriminator" and isinstance(value, dict) and "mapping" in value:
            mapping = {tag: _ref(ref) for tag, ref in value["mapping"].items()}
            out[key] = value | {"mapping": mapping}
        else:
            out[key] = value
    if "prefixItems" in out:
        rest = out.pop("items", False)
        out["items"] = out.pop("prefixItems")
        out["additionalItems"] = rest
    if "$ref" in out and len(out) > 1:
        out = {"allOf": [{"$ref": out.pop("$ref")}], **out}
    return out


def _require_discriminators(schema: dict[str, Any]) -> None:
    """Make the discriminating property required in every member of a tagged union."""
    definitions = schema.get("definitions", {})
    for sub in list(subschemas(schema)):
        discriminator = sub.get("discriminator")
        if not isinstance(discriminator, dict) or "propertyName" not in discriminator:
            continue
        tag = discriminator["propertyName"]
        for ref in discriminator.get("mapping", {}).values():
            member = definitions.get(ref[len(_DEFS_7) :]) if ref.startswith(_DEFS_7) else None
            if member is not None and tag not in member.setdefault("required", []):
                member["required"].insert(0, tag)
