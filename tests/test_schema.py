"""Tests for flowspec.spec.schema: the draft-7 JSON Schema editors use for spec files.

Specs are checked against the schema with ``jsonschema.Draft7Validator`` (``jsonschema``
is a test dependency), and the schema itself is checked against the draft-7 meta-schema.
A keyword draft-7 validators do not know (such as ``prefixItems`` or ``$defs``) would be
silently ignored by them, so the schema test also fails when one appears.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from jsonschema import Draft7Validator
from pydantic import BaseModel, Field

import flowspec
from flowspec.core.registry import conditioner_kinds, node_kinds, transformer_kinds
from flowspec.spec.schema import (
    DRAFT_7,
    json_schema,
    schema_text,
    subschemas,
    to_draft7,
    write_schema,
)

ROOT = Path(__file__).resolve().parent.parent
COMMITTED = ROOT / "schemas" / "flowspec.schema.json"
SPECS = sorted((ROOT / "specs").glob("*.yaml"))
REGENERATE = (
    'run `flowspec schema -o schemas/flowspec.schema.json` (or `python -c "from '
    "flowspec.spec.schema import write_schema; write_schema('schemas/flowspec.schema.json')\"`)"
)

#: Keywords that only annotate (validators ignore them).
ANNOTATIONS = {"$schema", "title", "description", "default", "examples", "discriminator"}

#: The keywords the schema may use: annotations, ``definitions``, and every keyword the
#: draft-7 validator acts on (``then``/``else`` are read through ``if``).
DRAFT7_KEYWORDS = ANNOTATIONS | {"definitions", "then", "else"} | set(Draft7Validator.VALIDATORS)


# --- fixtures ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def schema() -> dict[str, Any]:
    return json_schema()


@pytest.fixture(scope="module")
def validator(schema: dict[str, Any]) -> Draft7Validator:
    return Draft7Validator(schema)


def _errors(validator: Draft7Validator, value: Any) -> list[str]:
    """Every draft-7 error of ``value``, as ``path: message`` lines."""
    return [f"{error.json_path}: {error.message}" for error in validator.iter_errors(value)]


def _resolve(root: dict[str, Any], ref: str) -> Any:
    """The target of a local ``$ref`` (a JSON pointer into ``root``)."""
    assert ref.startswith("#/"), f"non-local $ref {ref}"
    node: Any = root
    for part in ref[2:].split("/"):
        node = node[part.replace("~1", "/").replace("~0", "~")]
    return node


def _keys(value: Any) -> set[str]:
    """Every key of every object anywhere in a JSON value."""
    if isinstance(value, dict):
        return set(value) | {k for v in value.values() for k in _keys(v)}
    if isinstance(value, list):
        return {k for v in value for k in _keys(v)}
    return set()


def _refs(value: Any) -> list[str]:
    if isinstance(value, dict):
        own = [value["$ref"]] if isinstance(value.get("$ref"), str) else []
        return own + [r for v in value.values() for r in _refs(v)]
    if isinstance(value, list):
        return [r for v in value for r in _refs(v)]
    return []


GOOD = """
flowspec: "1"
name: realnvp-moons
inputs:
  x: {shape: [2]}
blocks:
  step:
    - {kind: affine_coupling, net: {kind: mlp, hidden: [64, 64]}}
    - {kind: affine_coupling, mask: [0, 1]}
nodes:
  body: {block: step, repeat: 4, in: x}
  prior: {kind: standard_normal, in: body}
"""


def _good() -> dict[str, Any]:
    return yaml.safe_load(GOOD)


# --- the committed file -----------------------------------------------------------------


def test_committed_schema_is_current(tmp_path: Path) -> None:
    assert COMMITTED.exists(), f"schemas/flowspec.schema.json is missing: {REGENERATE}"
    fresh = tmp_path / "flowspec.schema.json"
    write_schema(fresh)
    assert COMMITTED.read_text(encoding="utf-8") == fresh.read_text(encoding="utf-8"), (
        f"schemas/flowspec.schema.json is out of date: {REGENERATE}"
    )


def test_write_schema_format(tmp_path: Path, schema: dict[str, Any]) -> None:
    path = tmp_path / "s.json"
    write_schema(path)
    text = path.read_text(encoding="utf-8")
    assert text.endswith("}\n") and not text.endswith("\n\n")
    assert text.startswith('{\n  "$schema": ')
    assert text == schema_text() and json.loads(text) == schema
    assert text.isascii()


# --- draft 7 ----------------------------------------------------------------------------


def test_header(schema: dict[str, Any]) -> None:
    assert schema["$schema"] == DRAFT_7
    assert schema["title"] and schema["description"]
    assert list(schema)[:3] == ["$schema", "title", "description"]


def test_no_draft_2020_keywords(schema: dict[str, Any]) -> None:
    keys = _keys(schema)
    assert "$defs" not in keys
    assert "prefixItems" not in keys
    assert "definitions" in schema


def test_only_draft7_keywords(schema: dict[str, Any]) -> None:
    # The allow-list itself excludes what draft 2020-12 added.
    draft_2020_only = {"$defs", "prefixItems", "dependentSchemas", "unevaluatedProperties"}
    assert not draft_2020_only & DRAFT7_KEYWORDS
    for sub in subschemas(schema):
        unknown = set(sub) - DRAFT7_KEYWORDS
        assert not unknown, f"not draft-7 keywords: {sorted(unknown)} in {sub.get('title')}"


def test_every_ref_resolves(schema: dict[str, Any]) -> None:
    refs = _refs(schema)
    assert refs
    for ref in refs:
        assert ref.startswith("#/definitions/"), ref
        assert isinstance(_resolve(schema, ref), dict), ref
    for sub in subschemas(schema):
        if "$ref" in sub:
            assert set(sub) == {"$ref"}, f"$ref with siblings (ignored by draft 7): {sub}"
        mapping = sub.get("discriminator", {}).get("mapping", {})
        for ref in mapping.values():
            assert isinstance(_resolve(schema, ref), dict), ref


def _kinds_described(schema: dict[str, Any], member: str) -> dict[str, Any]:
    """The definitions of the discriminated union (by ``kind``) that ``member`` is in."""
    kinds = {}
    for sub in subschemas(schema):
        mapping = sub.get("discriminator", {}).get("mapping", {})
        if member in mapping:
            kinds.update({kind: _resolve(schema, ref) for kind, ref in mapping.items()})
    return kinds


def test_every_node_kind_is_described(schema: dict[str, Any]) -> None:
    kinds = _kinds_described(schema, "standard_normal")
    assert set(kinds) == set(node_kinds())
    for kind, definition in kinds.items():
        assert definition["properties"]["kind"]["const"] == kind
        assert "kind" in definition["required"], kind
        assert "in" in definition["properties"] and "in_" not in definition["properties"]
        assert definition["additionalProperties"] is False


def test_elementwise_fn_keeps_its_enum(schema: dict[str, Any]) -> None:
    fn = schema["definitions"]["ElementwiseSpec"]["properties"]["fn"]
    assert "tanh" in fn["enum"]


def test_block_use_uses_alias(schema: dict[str, Any]) -> None:
    block_use = schema["definitions"]["BlockUse"]
    assert "in" in block_use["properties"] and "in" in block_use["required"]
    assert "in_" not in _keys(schema["definitions"])


# --- the conversion itself --------------------------------------------------------------


class _Inner(BaseModel):
    a: int = 0


class _Pairs(BaseModel):
    pair: tuple[int, str]
    many: tuple[float, ...] = ()
    inner: _Inner = Field(description="documented reference")
    default_holder: dict = Field(default={"prefixItems": [1], "mapping": {"a": "#/$defs/X"}})


def test_to_draft7_rewrites_2020_constructs() -> None:
    converted = to_draft7(_Pairs.model_json_schema())
    pair = converted["properties"]["pair"]
    assert pair["items"] == [{"type": "integer"}, {"type": "string"}]
    assert pair["additionalItems"] is False
    assert converted["properties"]["many"]["items"] == {"type": "number"}
    inner = converted["properties"]["inner"]
    assert inner["allOf"] == [{"$ref": "#/definitions/_Inner"}]
    assert inner["description"] == "documented reference"
    assert "_Inner" in converted["definitions"] and "$defs" not in converted
    # Values (defaults, consts, enums) are data, not schemas: copied as they are.
    assert converted["properties"]["default_holder"]["default"] == {
        "prefixItems": [1],
        "mapping": {"a": "#/$defs/X"},
    }
    Draft7Validator.check_schema(converted)
    check = Draft7Validator(converted)
    assert _errors(check, {"pair": [1, "a"], "inner": {"a": 2}}) == []
    assert not check.is_valid({"pair": [1, "a", 3], "inner": {}})  # additionalItems: false
    assert not check.is_valid({"pair": [1, 2], "inner": {}})  # items[1] is a string
    assert not check.is_valid({"pair": [1, "a"], "inner": {"a": "x"}})  # through the $ref


# --- validating specs against the schema ------------------------------------------------


def test_good_spec_validates(validator: Draft7Validator) -> None:
    assert _errors(validator, _good()) == []


def _broken(change: str) -> dict[str, Any]:
    spec = _good()
    if change == "unknown kind":
        spec["nodes"]["prior"]["kind"] = "gaussian"
    elif change == "missing kind":
        del spec["nodes"]["prior"]["kind"]
    elif change == "python field name":
        spec["nodes"]["prior"]["in_"] = spec["nodes"]["prior"].pop("in")
    elif change == "block use without in":
        del spec["nodes"]["body"]["in"]
    elif change == "zero repeat":
        spec["nodes"]["body"]["repeat"] = 0
    elif change == "wrong version":
        spec["flowspec"] = "2"
    elif change == "extra top-level key":
        spec["model"] = {}
    elif change == "unknown field":
        spec["blocks"]["step"][0]["hiden"] = [3]
    elif change == "bad mask":
        spec["blocks"]["step"][1]["mask"] = [0, 2]
    elif change == "shape not a list":
        spec["inputs"]["x"]["shape"] = 2
    return spec


@pytest.mark.parametrize(
    "change",
    [
        "unknown kind",
        "missing kind",
        "python field name",
        "block use without in",
        "zero repeat",
        "wrong version",
        "extra top-level key",
        "unknown field",
        "bad mask",
        "shape not a list",
    ],
)
def test_wrong_spec_is_rejected(change: str, validator: Draft7Validator) -> None:
    assert _errors(validator, _broken(change)), change


def test_wrong_elementwise_fn_is_rejected(validator: Draft7Validator) -> None:
    spec = _good()
    spec["nodes"]["squash"] = {"kind": "elementwise", "fn": "relu", "in": "body"}
    assert _errors(validator, spec)
    spec["nodes"]["squash"]["fn"] = "tanh"
    assert _errors(validator, spec) == []


@pytest.mark.parametrize("path", SPECS, ids=[p.name for p in SPECS])
def test_shipped_specs_validate(path: Path, validator: Draft7Validator) -> None:
    flowspec.check(path)
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert _errors(validator, data) == []


def test_schema_is_valid_draft7(schema: dict[str, Any]) -> None:
    Draft7Validator.check_schema(schema)
    committed = json.loads(COMMITTED.read_text(encoding="utf-8"))
    Draft7Validator.check_schema(committed)


def test_every_transformer_and_conditioner_kind_is_described(schema: dict[str, Any]) -> None:
    consts = {
        sub["properties"]["kind"].get("const")
        for sub in subschemas(schema)
        if isinstance(sub.get("properties", {}).get("kind"), dict)
    }
    assert set(transformer_kinds()) <= consts
    assert set(conditioner_kinds()) <= consts
