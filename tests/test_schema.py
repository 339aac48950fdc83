"""Tests for flowspec.spec.schema: the draft-7 JSON Schema editors use for spec files.

``jsonschema`` is not a dependency, so specs are checked against the schema with a small
draft-7 validator below; it knows exactly the keywords the schema may use, and the
schema test fails when a keyword outside that set (such as ``prefixItems``) appears.
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import BaseModel, Field

import flowspec
from flowspec.core.registry import node_kinds
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
    "run `flowspec schema -o schemas/flowspec.schema.json` (or `python -c \"from "
    "flowspec.spec.schema import write_schema; write_schema('schemas/flowspec.schema.json')\"`)"
)

#: Keywords that only annotate (validators ignore them).
ANNOTATIONS = {"$schema", "title", "description", "default", "examples", "discriminator"}


# --- a small draft-7 validator ----------------------------------------------------------


def _is_type(value: Any, name: str) -> bool:
    if isinstance(value, bool):
        return name == "boolean"
    if name == "integer":
        return isinstance(value, int) or (isinstance(value, float) and value.is_integer())
    kinds = {
        "string": str, "number": (int, float), "boolean": bool, "null": type(None),
        "array": list, "object": dict,
    }
    return isinstance(value, kinds[name])


def _same(a: Any, b: Any) -> bool:
    """JSON equality: true and 1 differ."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    return a == b


class Draft7:
    """Validate JSON values against a draft-7 schema that uses only local references."""

    def __init__(self, root: dict[str, Any]):
        self.root = root

    def resolve(self, ref: str) -> Any:
        assert ref.startswith("#/"), f"non-local $ref {ref}"
        node: Any = self.root
        for part in ref[2:].split("/"):
            node = node[part.replace("~1", "/").replace("~0", "~")]
        return node

    def errors(self, value: Any, schema: Any, where: str = "$") -> list[str]:
        if schema is True or schema == {}:
            return []
        if schema is False:
            return [f"{where}: no value is allowed here"]
        found: list[str] = []
        for key, rule in schema.items():
            check = getattr(self, "_" + key.lstrip("$"), None)
            if key in ANNOTATIONS or key == "definitions":
                continue
            assert check is not None, f"keyword '{key}' is not known to the draft-7 check"
            found += check(value, rule, schema, where)
        return found

    def valid(self, value: Any, schema: Any) -> bool:
        return not self.errors(value, schema)

    def _ref(self, value, rule, schema, where):
        return self.errors(value, self.resolve(rule), where)

    def _type(self, value, rule, schema, where):
        names = [rule] if isinstance(rule, str) else rule
        ok = any(_is_type(value, name) for name in names)
        return [] if ok else [f"{where}: {value!r} is not of type {rule}"]

    def _enum(self, value, rule, schema, where):
        ok = any(_same(value, option) for option in rule)
        return [] if ok else [f"{where}: {value!r} is not one of {rule}"]

    def _const(self, value, rule, schema, where):
        return [] if _same(value, rule) else [f"{where}: {value!r} is not {rule!r}"]

    def _properties(self, value, rule, schema, where):
        if not isinstance(value, dict):
            return []
        return [
            e
            for k, sub in rule.items()
            if k in value
            for e in self.errors(value[k], sub, f"{where}.{k}")
        ]

    def _required(self, value, rule, schema, where):
        if not isinstance(value, dict):
            return []
        return [f"{where}: missing '{k}'" for k in rule if k not in value]

    def _additionalProperties(self, value, rule, schema, where):
        if not isinstance(value, dict):
            return []
        extra = [k for k in value if k not in schema.get("properties", {})]
        return [e for k in extra for e in self.errors(value[k], rule, f"{where}.{k}")]

    def _propertyNames(self, value, rule, schema, where):
        if not isinstance(value, dict):
            return []
        return [e for k in value for e in self.errors(k, rule, f"{where} key {k!r}")]

    def _items(self, value, rule, schema, where):
        if not isinstance(value, list):
            return []
        if isinstance(rule, list):
            pairs = list(zip(value, rule))
        else:
            pairs = [(item, rule) for item in value]
        return [
            e
            for i, (item, sub) in enumerate(pairs)
            for e in self.errors(item, sub, f"{where}[{i}]")
        ]

    def _additionalItems(self, value, rule, schema, where):
        if not isinstance(value, list) or not isinstance(schema.get("items"), list):
            return []
        rest = value[len(schema["items"]):]
        return [e for i, item in enumerate(rest) for e in self.errors(item, rule, f"{where}[+{i}]")]

    def _minItems(self, value, rule, schema, where):
        ok = not isinstance(value, list) or len(value) >= rule
        return [] if ok else [f"{where}: fewer than {rule} items"]

    def _maxItems(self, value, rule, schema, where):
        ok = not isinstance(value, list) or len(value) <= rule
        return [] if ok else [f"{where}: more than {rule} items"]

    def _minLength(self, value, rule, schema, where):
        ok = not isinstance(value, str) or len(value) >= rule
        return [] if ok else [f"{where}: shorter than {rule}"]

    def _maxLength(self, value, rule, schema, where):
        ok = not isinstance(value, str) or len(value) <= rule
        return [] if ok else [f"{where}: longer than {rule}"]

    def _pattern(self, value, rule, schema, where):
        ok = not isinstance(value, str) or re.search(rule, value) is not None
        return [] if ok else [f"{where}: {value!r} does not match {rule}"]

    def _bound(self, value, ok, text, where):
        numeric = isinstance(value, (int, float)) and not isinstance(value, bool)
        return [] if not numeric or ok(value) else [f"{where}: {value!r} {text}"]

    def _minimum(self, value, rule, schema, where):
        return self._bound(value, lambda v: v >= rule, f"< {rule}", where)

    def _maximum(self, value, rule, schema, where):
        return self._bound(value, lambda v: v <= rule, f"> {rule}", where)

    def _exclusiveMinimum(self, value, rule, schema, where):
        return self._bound(value, lambda v: v > rule, f"<= {rule}", where)

    def _exclusiveMaximum(self, value, rule, schema, where):
        return self._bound(value, lambda v: v < rule, f">= {rule}", where)

    def _allOf(self, value, rule, schema, where):
        return [e for sub in rule for e in self.errors(value, sub, where)]

    def _anyOf(self, value, rule, schema, where):
        ok = any(self.valid(value, sub) for sub in rule)
        return [] if ok else [f"{where}: matches none of anyOf"]

    def _oneOf(self, value, rule, schema, where):
        count = sum(self.valid(value, sub) for sub in rule)
        return [] if count == 1 else [f"{where}: matches {count} of oneOf, not exactly one"]

    def _not(self, value, rule, schema, where):
        return [f"{where}: matches 'not'"] if self.valid(value, rule) else []


#: The keywords the schema may use: annotations plus those :class:`Draft7` checks.
DRAFT7_KEYWORDS = ANNOTATIONS | {
    "definitions", "$ref", "type", "enum", "const", "properties", "required",
    "additionalProperties", "propertyNames", "items", "additionalItems", "minItems",
    "maxItems", "minLength", "maxLength", "pattern", "minimum", "maximum",
    "exclusiveMinimum", "exclusiveMaximum", "allOf", "anyOf", "oneOf", "not",
}


# --- fixtures ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def schema() -> dict[str, Any]:
    return json_schema()


@pytest.fixture(scope="module")
def validator(schema: dict[str, Any]) -> Draft7:
    return Draft7(schema)


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
    for sub in subschemas(schema):
        unknown = set(sub) - DRAFT7_KEYWORDS
        assert not unknown, f"not draft-7 keywords: {sorted(unknown)} in {sub.get('title')}"


def test_every_ref_resolves(schema: dict[str, Any], validator: Draft7) -> None:
    refs = _refs(schema)
    assert refs
    for ref in refs:
        assert ref.startswith("#/definitions/"), ref
        assert isinstance(validator.resolve(ref), dict), ref
    for sub in subschemas(schema):
        if "$ref" in sub:
            assert set(sub) == {"$ref"}, f"$ref with siblings (ignored by draft 7): {sub}"
        mapping = sub.get("discriminator", {}).get("mapping", {})
        for ref in mapping.values():
            assert isinstance(validator.resolve(ref), dict), ref


def test_every_node_kind_is_described(schema: dict[str, Any], validator: Draft7) -> None:
    kinds = {}
    for sub in subschemas(schema):
        for kind, ref in sub.get("discriminator", {}).get("mapping", {}).items():
            kinds[kind] = validator.resolve(ref)
    assert set(kinds) == set(node_kinds())
    for kind, definition in kinds.items():
        assert definition["properties"]["kind"]["const"] == kind
        assert "kind" in definition["required"], kind
        assert "in" in definition["properties"] and "in_" not in definition["properties"]
        assert definition["additionalProperties"] is False


def test_elementwise_fn_keeps_its_enum(schema: dict[str, Any]) -> None:
    if "elementwise" not in node_kinds():
        pytest.skip("no elementwise kind")
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
    check = Draft7(converted)
    assert check.valid({"pair": [1, "a"], "inner": {"a": 2}}, converted)
    assert not check.valid({"pair": [1, "a", 3], "inner": {}}, converted)
    assert not check.valid({"pair": [1, 2], "inner": {}}, converted)


# --- validating specs against the schema ------------------------------------------------


def _reference_errors(spec: Any, schema: dict[str, Any]) -> list[str] | None:
    """The errors of the real draft-7 validator, when ``jsonschema`` happens to be installed."""
    try:
        import jsonschema
    except ImportError:
        return None
    return [error.message for error in jsonschema.Draft7Validator(schema).iter_errors(spec)]


def test_good_spec_validates(schema: dict[str, Any], validator: Draft7) -> None:
    assert validator.errors(_good(), schema) == []
    assert _reference_errors(_good(), schema) in (None, [])


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
def test_wrong_spec_is_rejected(change: str, schema: dict[str, Any], validator: Draft7) -> None:
    assert validator.errors(_broken(change), schema), change
    assert _reference_errors(_broken(change), schema) != [], change


def test_wrong_elementwise_fn_is_rejected(schema: dict[str, Any], validator: Draft7) -> None:
    if "elementwise" not in node_kinds():
        pytest.skip("no elementwise kind")
    spec = _good()
    spec["nodes"]["squash"] = {"kind": "elementwise", "fn": "relu", "in": "body"}
    assert validator.errors(spec, schema)
    spec["nodes"]["squash"]["fn"] = "tanh"
    assert validator.errors(spec, schema) == []


@pytest.mark.parametrize("path", SPECS, ids=[p.name for p in SPECS])
def test_shipped_specs_validate(path: Path, schema: dict[str, Any], validator: Draft7) -> None:
    try:
        flowspec.check(path)
    except flowspec.SpecError:
        pytest.skip("the spec itself does not check (not the schema's business)")
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert validator.errors(data, schema) == []
    assert _reference_errors(data, schema) in (None, [])


def test_schema_is_valid_draft7_if_jsonschema_is_installed(schema: dict[str, Any]) -> None:
    jsonschema = pytest.importorskip("jsonschema")
    jsonschema.Draft7Validator.check_schema(schema)


def test_validator_sanity() -> None:
    check = Draft7({})
    assert check.errors(math.pi, {"type": "integer"})
    assert not check.errors(3.0, {"type": "integer"})
    assert check.errors(True, {"const": 1})
    assert check.errors("x", {"oneOf": [{"type": "string"}, {"const": "x"}]})
