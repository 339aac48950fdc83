"""Loaded YAML data -> typed spec models, with every problem reported at its location.

Each input, block element and node is validated on its own, so one bad node does not
hide the mistakes of the others, and pydantic's errors are turned into diagnostics with
the spec path, ``file:line:col`` and a did-you-mean hint.
"""

from __future__ import annotations

import types
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import PurePath
from typing import Annotated, Any, Union, cast, get_args, get_origin

from pydantic import BaseModel, BeforeValidator, Discriminator, Tag, ValidationError

from flowspec.core.node import NodeSpec
from flowspec.core.registry import NOT_INVERTIBLE, node_kinds
from flowspec.diagnostics import Reporter, SpecPath, did_you_mean, format_path
from flowspec.spec.accept import check_acceptances
from flowspec.spec.document import (
    RESERVED,
    BlockUse,
    Header,
    InputSpec,
    NestedBlockUse,
    is_identifier,
)
from flowspec.spec.training import BUNDLED_DATA, DATA_FILE_SUFFIXES, TrainSettings, allowed_range

__all__ = [
    "SpecModel",
    "validate_document",
    "validate_train",
    "referenced_names",
    "kind_members",
    "submodel",
    "TOP_LEVEL_FIELDS",
]

TOP_LEVEL_FIELDS = (
    "flowspec",
    "name",
    "description",
    "train",
    "accept",
    "inputs",
    "blocks",
    "nodes",
)
#: Codes of unknown fields, missing fields and bad values: in nodes, and in train settings.
NODE_CODES = ("E102", "E103", "E104")
TRAIN_CODES = ("E900", "E903", "E901")


@dataclass
class SpecModel:
    """A spec after structural validation: typed, but its graph not yet checked."""

    header: Header | None
    inputs: dict[str, InputSpec] = field(default_factory=dict)
    #: Each block's chain; a block with an error anywhere in it (or in a block it uses)
    #: has an empty chain, so its uses are left out of the graph without more errors.
    blocks: dict[str, list[NodeSpec | NestedBlockUse]] = field(default_factory=dict)
    nodes: dict[str, NodeSpec | BlockUse] = field(default_factory=dict)
    #: Names that were declared but failed validation: references to them are not errors.
    broken: set[str] = field(default_factory=set)
    #: Names that entries dropped for their errors refer to: whether those names' outputs
    #: are used is unknown, so an unused output of theirs is not reported.
    loose: set[str] = field(default_factory=set)
    #: False when 'inputs' or 'nodes' is missing, empty or not a mapping: checks of the
    #: whole graph would then only report consequences of that.
    complete: bool = True


def validate_document(data: Any, reporter: Reporter) -> SpecModel:
    """Validate the loaded top-level mapping; every problem goes to ``reporter``."""
    for key in data:
        if key not in TOP_LEVEL_FIELDS:
            reporter.error(
                "E102",
                f"unknown top-level field '{key}'",
                (key,),
                hint=did_you_mean(key, TOP_LEVEL_FIELDS)
                or f"expected one of: {', '.join(TOP_LEVEL_FIELDS)}",
            )
    header = _validate_model(Header, {k: v for k, v in data.items() if k != "train"}, (), reporter)
    if header is not None and data.get("train") is not None:
        header = header.model_copy(
            update={"train": validate_train(data["train"], ("train",), reporter)}
        )
    if header is not None and header.accept:
        header = header.model_copy(update={"accept": check_acceptances(header.accept, reporter)})
    spec = SpecModel(header=header)
    for section in ("inputs", "nodes"):
        value = data.get(section)
        if section not in data:
            reporter.error("E103", f"missing required field '{section}'", ())
        elif value is None or value == {}:
            reporter.error("E103", f"a spec needs at least one {section[:-1]}", (section,))
        if not isinstance(value, dict) or not value:
            spec.complete = False
    for name, entry in _mapping(data, "inputs", reporter).items():
        if _check_name(name, ("inputs", name), reporter):
            value = _validate_model(InputSpec, entry, ("inputs", name), reporter)
            if value is not None and _check_input(value, ("inputs", name), reporter):
                spec.inputs[name] = value
                continue
        spec.broken.add(str(name))
    for name, entries in _mapping(data, "blocks", reporter).items():
        spec.blocks[name] = _validate_block(name, entries, reporter)
    _check_block_uses(spec.blocks, reporter)
    reads_unknown = False
    for name, entry in _mapping(data, "nodes", reporter).items():
        path = ("nodes", name)
        node = _validate_node(entry, path, reporter) if _check_name(name, path, reporter) else None
        if node is None:
            spec.broken.add(str(name))
            spec.loose |= referenced_names(entry)
            reads_unknown |= not _reads_known(entry)
            continue
        if name in spec.inputs:
            reporter.error(
                "E108",
                f"'{name}' names both an input and a node",
                path,
                node=str(name),
                hint="rename the node or the input",
            )
            spec.broken.add(name)
            spec.loose |= referenced_names(node)
            continue
        if isinstance(node, BlockUse) and node.block not in spec.blocks:
            reporter.error(
                "E111",
                f"unknown block '{node.block}'",
                path + ("block",),
                node=name,
                hint=did_you_mean(node.block, spec.blocks)
                or f"blocks defined: {', '.join(spec.blocks) or 'none'}",
            )
            spec.broken.add(name)
            spec.loose |= referenced_names(node)
            continue
        assert isinstance(node, NodeSpec | BlockUse)  # a nested use only comes from a block
        spec.nodes[name] = node
    if reads_unknown:
        # A dropped node may have read anything: no output is known to be unused.
        spec.loose |= set(spec.inputs) | set(map(str, spec.nodes))
    return spec


def _reads_known(entry: Any) -> bool:
    """Whether the ``in`` of raw node data names its inputs (a name or a list of names)."""
    if not isinstance(entry, dict):
        return False
    value = entry.get("in")
    if isinstance(value, list):
        return bool(value) and all(isinstance(item, str) and item for item in value)
    return isinstance(value, str) and bool(value)


def referenced_names(entry: Any) -> set[str]:
    """The input and node names an entry's ``in`` and ``context`` refer to; also works on
    raw data that failed validation, ignoring whatever is not a reference."""
    if isinstance(entry, (NodeSpec, BlockUse)):
        values: list[Any] = [entry.in_, entry.context]
    elif isinstance(entry, dict):
        values = [entry.get("in"), entry.get("context")]
    else:
        return set()
    names: set[str] = set()
    while values:
        value = values.pop()
        if isinstance(value, str):
            names.add(value.partition(".")[0])
        elif isinstance(value, list):
            values.extend(value)
    return names


def _mapping(data: dict, key: str, reporter: Reporter) -> dict:
    value = data.get(key)
    if value is None:
        return {}
    if not isinstance(value, dict):
        reporter.error(
            "E104", f"'{key}' must be a mapping of names to entries, got {_kind_of(value)}", (key,)
        )
        return {}
    return value


def _check_name(name: Any, path: SpecPath, reporter: Reporter) -> bool:
    if is_identifier(name):
        return True
    reporter.error(
        "E107",
        f"'{name}' is not a valid name: names become Python identifiers in generated code",
        path,
        node=str(name) if path[0] == "nodes" else None,
        hint="use letters, digits and single underscores, starting with a letter; not a "
        f"Python keyword nor one of: {', '.join(sorted(RESERVED))}",
    )
    return False


def _check_input(value: InputSpec, path: SpecPath, reporter: Reporter) -> bool:
    if value.levels is not None and (value.low is not None or value.high is not None):
        reporter.error(
            "E112",
            "an input is either discrete (levels) or continuous (low/high), not both",
            path,
        )
        return False
    if value.low is not None and value.high is not None and value.low >= value.high:
        reporter.error("E112", f"low ({value.low}) must be below high ({value.high})", path)
        return False
    return True


def _validate_block(name: str, entries: Any, reporter: Reporter) -> list[NodeSpec | NestedBlockUse]:
    path: SpecPath = ("blocks", name)
    if not is_identifier(name):
        _check_name(name, path, reporter)
    if not isinstance(entries, list) or not entries:
        reporter.error("E104", "a block is a non-empty list of nodes", path)
        return []
    chain: list[NodeSpec | NestedBlockUse] = []
    complete = True
    for index, entry in enumerate(entries):
        node = _validate_node(entry, path + (index,), reporter, in_block=True)
        if node is None:
            complete = False
            continue
        if isinstance(node, NestedBlockUse):
            chain.append(node)
            continue
        if node.in_ is not None:
            _report_in_block_input(name, path + (index, "in"), reporter)
        if node.context is not None:
            reporter.error(
                "E113",
                "a node inside a block takes its context from the block use",
                path + (index, "context"),
                node=name,
                hint=f"remove 'context' here and write it where the block is used: "
                f"{{block: {name}, in: ..., context: {node.context}}}",
            )
        if node.terminal or len(node.input_ports()) != 1 or len(node.output_ports()) != 1:
            reporter.error(
                "E110",
                f"'{node.kind}' cannot be part of a block: blocks are chains of nodes with "
                "one input and one output",
                path + (index, "kind"),
                node=name,
            )
            complete = False
            continue
        chain.append(node)
    # A chain missing a node would only produce misleading shape errors where it is used.
    return chain if complete else []


def _report_in_block_input(block: str, path: SpecPath, reporter: Reporter) -> None:
    reporter.error(
        "E109",
        "a node inside a block takes its input from the node before it",
        path,
        node=block,
        hint="remove 'in'; give the block's input where the block is used",
    )


def _check_block_uses(
    blocks: dict[str, list[NodeSpec | NestedBlockUse]], reporter: Reporter
) -> None:
    """Blocks used inside blocks must exist (E111) and must not use themselves, directly
    or through others (E658, naming the cycle). The chains of such blocks are emptied."""
    uses = {
        name: [(index, e) for index, e in enumerate(chain) if isinstance(e, NestedBlockUse)]
        for name, chain in blocks.items()
    }
    bad: set[str] = set()
    for name, nested in uses.items():
        for index, use in nested:
            if use.block not in blocks:
                reporter.error(
                    "E111",
                    f"unknown block '{use.block}'",
                    ("blocks", name, index, "block"),
                    node=name,
                    hint=did_you_mean(use.block, blocks) or f"blocks defined: {', '.join(blocks)}",
                )
                bad.add(name)
    reported: set[frozenset[str]] = set()

    def visit(trail: list[str]) -> None:
        for index, use in uses.get(trail[-1], []):
            if use.block in trail:
                cycle = trail[trail.index(use.block) :] + [use.block]
                members = frozenset(cycle)
                bad.update(members)
                if members not in reported:
                    reported.add(members)
                    reporter.error(
                        "E658",
                        f"block '{use.block}' uses itself: {' -> '.join(cycle)}",
                        ("blocks", trail[-1], index, "block"),
                        node=trail[-1],
                        hint="a block may use other blocks, but not itself; repeat it "
                        "with 'repeat' instead",
                    )
            elif use.block in uses:
                visit(trail + [use.block])

    for name in uses:
        visit([name])
    # A block is unusable when it, or any block it uses, is.
    changed = True
    while changed:
        changed = False
        for name, nested in uses.items():
            if name not in bad and any(use.block in bad for _, use in nested):
                bad.add(name)
                changed = True
    for name in bad:
        blocks[name] = []


def _validate_node(
    entry: Any, path: SpecPath, reporter: Reporter, in_block: bool = False
) -> NodeSpec | BlockUse | NestedBlockUse | None:
    name = str(path[-1]) if not in_block else str(path[1])
    if not isinstance(entry, dict):
        reporter.error(
            "E101",
            f"a node must be a mapping with 'kind' (or 'block'), got {_kind_of(entry)}",
            path,
            node=name,
        )
        return None
    if "block" in entry and "kind" in entry:
        reporter.error(
            "E101",
            "a node has either 'kind' (a node) or 'block' (a block use), not both",
            path,
            node=name,
            hint="remove one of the two",
        )
        return None
    if "block" in entry and in_block:
        if "in" in entry:
            _report_in_block_input(name, path + ("in",), reporter)
            entry = {key: value for key, value in entry.items() if key != "in"}
        return _validate_model(NestedBlockUse, entry, path, reporter, node=name)
    if "block" in entry:
        return _validate_model(BlockUse, entry, path, reporter, node=name)
    kind = entry.get("kind")
    kinds = node_kinds()
    if kind is None:
        glued = next((key for key in entry if _glued(key)), None)
        if glued is not None:
            reporter.error(
                "E105",
                f"node has no 'kind': the key read is '{glued}', one word",
                path + (glued,),
                node=name,
                hint=f"YAML needs a space after the colon: {_unglued(glued)}",
            )
            return None
        reporter.error(
            "E105",
            "node has no 'kind'" + ("" if in_block else " (nor 'block')"),
            path,
            node=name,
            hint="run `flowspec nodes` to list the kinds",
        )
        return None
    if not isinstance(kind, str):
        reporter.error(
            "E104",
            f"invalid value {_show(kind)} for 'kind': expected the name of a node kind",
            path + ("kind",),
            node=name,
            hint="run `flowspec nodes` to list the kinds",
        )
        return None
    if kind not in kinds:
        reporter.error(
            "E106",
            f"unknown node kind '{kind}'",
            path + ("kind",),
            node=name,
            hint=NOT_INVERTIBLE.get(kind)
            or did_you_mean(kind, kinds)
            or "run `flowspec nodes` to list the kinds",
        )
        return None
    return _validate_model(kinds[kind], entry, path, reporter, node=name)


def validate_train(data: Any, path: SpecPath, reporter: Reporter) -> TrainSettings | None:
    """Training settings (a spec's ``train:`` section or a ``--config`` file), or None after
    reporting every problem with an E9xx code."""
    if not isinstance(data, dict):
        reporter.error(
            "E902",
            f"training settings must be a mapping of fields, got {_kind_of(data)}",
            path,
            hint="e.g. train: {steps: 2000, lr: 1.0e-3}",
        )
        return None
    settings = _validate_model(TrainSettings, data, path, reporter, codes=TRAIN_CODES)
    if settings is not None:
        _check_training_data(settings, path, reporter)
        if settings.steps is not None and settings.warmup_shortfall(settings.steps):
            reporter.warning(
                "W904",
                settings.warmup_shortfall(settings.steps),
                path + ("warmup",),
                hint=f"use a warmup of a few percent of the steps, e.g. {settings.steps // 20}",
            )
    return settings


def _check_training_data(settings: TrainSettings, path: SpecPath, reporter: Reporter) -> None:
    """``data`` names a bundled data set or a data file (E901): anything else is only found
    out when training starts, without a location."""
    data = settings.data
    if data is None or data in BUNDLED_DATA or PurePath(data).suffix.lower() in DATA_FILE_SUFFIXES:
        return
    reporter.error(
        "E901",
        f"invalid value '{data}' for 'data': neither a bundled data set nor a data file "
        f"({', '.join(DATA_FILE_SUFFIXES)})",
        path + ("data",),
        hint=did_you_mean(data, BUNDLED_DATA) or f"bundled data sets: {', '.join(BUNDLED_DATA)}",
    )


def _glued(key: object) -> bool:
    """A key such as ``kind:reverse``: a field name and its value that YAML read as one
    key, because no space follows the colon."""
    return isinstance(key, str) and ":" in key and key.split(":", 1)[0].isidentifier()


def _unglued(key: str) -> str:
    name, value = key.split(":", 1)
    return f"'{name}: {value}'"


def _validate_model(
    model: type[BaseModel],
    data: Any,
    path: SpecPath,
    reporter: Reporter,
    node: str | None = None,
    codes: tuple[str, str, str] = NODE_CODES,
) -> Any:
    try:
        return model.model_validate(data)
    except ValidationError as error:
        for where, messages, error_type in _group_errors(error, data):
            _report_pydantic(model, data, path, where, messages, error_type, reporter, node, codes)
        return None


def _group_errors(error: ValidationError, data: Any) -> list[tuple[SpecPath, list[str], str]]:
    """pydantic reports one error per union member; keep one entry per spec path, and
    only the deepest paths: ``in: [[a]]`` fails both as a string (at ``in``) and as a list
    of strings (at ``in[0]``), and the deeper error is the one that says what is wrong."""
    grouped: dict[SpecPath, tuple[list[str], str]] = {}
    for item in error.errors():
        where = _data_path(data, item["loc"])
        messages, _ = grouped.setdefault(where, ([], item["type"]))
        text = _wording(item)
        if text not in messages:
            messages.append(text)
    return [
        (where, messages, kind)
        for where, (messages, kind) in grouped.items()
        if not any(len(other) > len(where) and other[: len(where)] == where for other in grouped)
    ]


#: pydantic error types -> flowspec's wording (``{name}`` filled from the error's context).
_WORDING: dict[str, str] = {
    "int_type": "expected an integer",
    "int_parsing": "expected an integer",
    "int_from_float": "expected an integer",
    "float_type": "expected a number",
    "float_parsing": "expected a number",
    "finite_number": "expected a finite number",
    "bool_type": "expected true or false",
    "bool_parsing": "expected true or false",
    "string_type": "expected a string",
    "list_type": "expected a list",
    "model_type": "expected a mapping of fields",
    "model_attributes_type": "expected a mapping of fields",
    "dict_type": "expected a mapping of fields",
    "too_short": "expected at least {min_length} item(s)",
    "too_long": "expected at most {max_length} item(s)",
    "string_too_short": "expected a non-empty string",
    "greater_than": "expected a value above {gt}",
    "greater_than_equal": "expected at least {ge}",
    "less_than": "expected a value below {lt}",
    "less_than_equal": "expected at most {le}",
    "literal_error": "expected {expected}",
    "enum": "expected {expected}",
}


def _wording(item: Any) -> str:
    """One pydantic error in flowspec's words (never pydantic's own sentences, which
    speak of 'Input' and 'after validation')."""
    template = _WORDING.get(item["type"])
    if template is not None:
        try:
            return template.format(**item.get("ctx", {}))
        except (KeyError, IndexError):
            pass
    message = str(item["msg"])
    if item["type"] == "value_error":
        return message.removeprefix("Value error, ")
    message = message.replace("Input should be ", "expected ", 1)
    return message[:1].lower() + message[1:]


def _data_path(data: Any, loc: tuple) -> SpecPath:
    """The part of pydantic's ``loc`` that indexes real data (union tags are dropped)."""
    path: list[str | int] = []
    current = data
    for part in loc:
        if isinstance(current, dict) and part in current:
            current = current[part]
        elif isinstance(current, list) and isinstance(part, int) and part < len(current):
            current = current[part]
        elif isinstance(current, dict) and not isinstance(part, int) and part == loc[-1]:
            path.append(part)  # a missing key: keep its name for the message
            break
        else:
            continue
        path.append(part)
    return tuple(path)


def _report_pydantic(
    model: type[BaseModel],
    data: Any,
    path: SpecPath,
    where: SpecPath,
    messages: list[str],
    error_type: str,
    reporter: Reporter,
    node: str | None,
    codes: tuple[str, str, str] = NODE_CODES,
) -> None:
    """One diagnostic; ``codes`` are those of an unknown field, a missing field (for train
    settings, which require none: a check across fields) and a bad value."""
    unknown, missing, invalid = codes
    full = path + where
    field_name = str(where[-1]) if where else ""
    if error_type == "extra_forbidden":
        known = _field_names(model, where[:-1], data)
        reporter.error(
            unknown,
            f"unknown field '{field_name}'",
            full,
            node=node,
            hint=(
                f"YAML needs a space after the colon: {_unglued(field_name)}"
                if _glued(field_name)
                else None
            )
            or did_you_mean(field_name, known)
            or (f"expected one of: {', '.join(known)}" if known else None),
        )
    elif error_type == "missing":
        described = _field_description(model, where, data)
        reporter.error(
            missing,
            f"missing required field '{field_name}'",
            full,
            node=node,
            hint=f"add '{field_name}': {described}" if described else None,
        )
    else:
        found = _value_at(data, where)
        hint = None
        if error_type == "list_type" and isinstance(found, (int, float, str)):
            hint = f"write a list, e.g. [{found}]"
        if not where and codes == TRAIN_CODES:
            reporter.error(
                missing, "; ".join(m.removeprefix("Value error, ") for m in messages), full
            )
            return
        if codes == TRAIN_CODES and allowed_range(field_name):
            hint = f"allowed: {allowed_range(field_name)}"
        reporter.error(
            invalid,
            f"invalid value {_show(found)} for '{format_path(where or path)}': "
            + "; or ".join(messages),
            full,
            node=node,
            hint=hint,
        )


def _field_description(model: type[BaseModel], where: SpecPath, data: Any) -> str | None:
    """The description of the field ``where`` leads to, if it is a described model field."""
    owner = submodel(model, where[:-1], data) if where else None
    if owner is None:
        return None
    info = owner.model_fields.get(str(where[-1]))
    return info.description if info is not None else None


def _field_names(model: type[BaseModel], sub_path: SpecPath, data: Any) -> list[str]:
    """Field names (by alias) of the (sub)model an unknown key was found in."""
    current = submodel(model, sub_path, data)
    if current is None:
        return []
    return [f.alias or name for name, f in current.model_fields.items()]


def submodel(model: type[BaseModel], sub_path: SpecPath, data: Any) -> type[BaseModel] | None:
    """The pydantic model of the mapping at ``sub_path`` inside ``model`` (whose data is
    ``data``), if known; a field that takes one of several kinds resolves to the kind
    the data names."""
    current: Any = model
    for part in sub_path:
        data = data.get(part) if isinstance(data, dict) else None
        if isinstance(part, int) or not (
            isinstance(current, type) and issubclass(current, BaseModel)
        ):
            continue
        info = current.model_fields.get(part) or next(
            (f for f in current.model_fields.values() if f.alias == part), None
        )
        current = _chosen_model(info, data) if info is not None else None
    if not (isinstance(current, type) and issubclass(current, BaseModel)):
        return None
    return current


def kind_members(annotation: Any) -> dict[str, type[BaseModel]]:
    """The models a field of type ``annotation`` takes, by kind: the members of a union
    chosen by ``kind`` (also inside ``Annotated`` and ``X | None``), or the one model of a
    settings field; empty for plain values."""
    if get_origin(annotation) is Annotated:
        annotation, *metadata = get_args(annotation)
        tag = next((m.tag for m in metadata if isinstance(m, Tag)), None)
        members = kind_members(annotation)
        return {tag: next(iter(members.values()))} if tag and len(members) == 1 else members
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        kind = annotation.model_fields.get("kind")
        return {str(kind.default if kind is not None else annotation.__name__): annotation}
    found: dict[str, type[BaseModel]] = {}
    if get_origin(annotation) in (Union, types.UnionType):
        for member in get_args(annotation):
            found.update(kind_members(member))
    return found


def _chosen_model(info: Any, data: Any) -> type[BaseModel] | None:
    """The model a field's value ``data`` is validated as: the field's model, or for a
    union chosen by ``kind`` the member the data names (or the union's default kind)."""
    annotation = info.annotation
    if isinstance(annotation, type):
        return annotation
    # pydantic keeps a callable Discriminator (a union with a default kind) in the field's
    # metadata, a plain one (``discriminator="kind"``) in ``info.discriminator``
    choose = next((m for m in info.metadata if isinstance(m, Discriminator)), info.discriminator)
    if get_origin(annotation) is Annotated:
        choose = next((m for m in get_args(annotation)[1:] if isinstance(m, Discriminator)), choose)
    members = kind_members(annotation)
    for step in info.metadata:
        if isinstance(step, BeforeValidator):  # e.g. a density field filling in its kind
            data = cast(Callable[[Any], Any], step.func)(data)
    if isinstance(choose, Discriminator) and callable(choose.discriminator):
        kind = choose.discriminator(data if isinstance(data, dict) else {})
    else:
        kind = data.get("kind") if isinstance(data, dict) else None
    return members.get(kind) if isinstance(kind, str) else None


def _value_at(data: Any, where: SpecPath) -> Any:
    for part in where:
        try:
            data = data[part]
        except (KeyError, IndexError, TypeError):
            return None
    return data


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _kind_of(value: Any) -> str:
    return {dict: "a mapping", list: "a list", str: "a string", type(None): "nothing"}.get(
        type(value), type(value).__name__
    )
