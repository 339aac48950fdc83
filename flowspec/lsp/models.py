"""Which spec model describes the mapping at a path of a spec, and what its fields take.

The answers come from the same pydantic models and discriminated unions that validate a
spec (:func:`flowspec.spec.validate.submodel`, :func:`~flowspec.spec.validate.kind_members`),
so a completion offers exactly the kinds and fields that validation accepts there.
"""

from __future__ import annotations

import types
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel

from flowspec.cli._fields import FieldRow, field_rows
from flowspec.core.node import NodeSpec
from flowspec.core.registry import node_kinds
from flowspec.diagnostics import SpecPath
from flowspec.lsp.analysis import value_at
from flowspec.spec.document import SECTIONS, BlockUse, Header, InputSpec, NestedBlockUse
from flowspec.spec.training import TrainSettings
from flowspec.spec.validate import kind_members, submodel

__all__ = ["entry_path", "model_at", "fields_of", "kinds_for", "choices_for"]


def entry_path(path: SpecPath) -> SpecPath | None:
    """The path of the node entry (``nodes.X`` or ``blocks.B[i]``) that ``path`` lies in."""
    if len(path) >= 2 and path[0] == "nodes":
        return path[:2]
    if len(path) >= 3 and path[0] == "blocks" and isinstance(path[2], int):
        return path[:3]
    return None


def _entry_model(entry: Any, in_block: bool) -> type[BaseModel] | None:
    """The model of a node entry: its kind's, or a block use's."""
    if not isinstance(entry, dict):
        return None
    if "block" in entry:
        return NestedBlockUse if in_block else BlockUse
    kind = entry.get("kind")
    return node_kinds().get(kind) if isinstance(kind, str) else None


def model_at(data: Any, path: SpecPath) -> type[BaseModel] | None:
    """The model of the mapping at ``path`` in loaded data (None at the top level, whose
    fields :func:`fields_of` lists, and where nothing is known)."""
    if len(path) == 2 and path[0] == "inputs":
        return InputSpec
    if path and path[0] == "train":
        return submodel(TrainSettings, path[1:], value_at(data, ("train",)))
    entry = entry_path(path)
    if entry is None:
        return None
    model = _entry_model(value_at(data, entry), in_block=entry[0] == "blocks")
    if model is None:
        return None
    return submodel(model, path[len(entry) :], value_at(data, entry))


def fields_of(data: Any, path: SpecPath) -> list[FieldRow]:
    """The fields the mapping at ``path`` may have (those a kind takes; for a node entry
    without a kind yet, ``kind`` and ``block``)."""
    if path == ():
        sections = [  # document_model: a spec without blocks has none
            FieldRow(name, "mapping", "{}" if name == "blocks" else "required", text)
            for name, text in SECTIONS.items()
        ]
        return [*field_rows(Header, nested=False), *sections]
    model = model_at(data, path)
    in_block = path[0] == "blocks"
    if model is None and entry_path(path) == path:
        return [
            FieldRow("kind", "str", "required", "The node kind (`flowspec nodes` lists them)."),
            FieldRow("block", "str", "required", str(BlockUse.model_fields["block"].description)),
        ]
    if model is None:
        return []
    skip = ["kind"]
    if in_block and issubclass(model, NodeSpec):
        skip += ["in_", "context"]  # a block's nodes are wired by the block use (E109, E113)
    elif issubclass(model, NodeSpec) and not model.accepts_context:
        skip.append("context")
    return field_rows(model, skip=tuple(skip), nested=False)


def _field(model: type[BaseModel], name: str) -> Any:
    return model.model_fields.get(name) or next(
        (f for f in model.model_fields.values() if f.alias == name), None
    )


def kinds_for(data: Any, path: SpecPath) -> dict[str, type[BaseModel]]:
    """The kinds the ``kind`` at ``path`` may name: node kinds for a node entry (those
    that fit in a chain, inside a block), else the members of the union of its field."""
    owner = path[:-1]
    if entry_path(owner) == owner:
        kinds = node_kinds()
        if owner[0] == "blocks":
            return {name: cls for name, cls in kinds.items() if not cls.terminal}
        return dict(kinds)
    if len(owner) < 1 or isinstance(owner[-1], int):
        return {}
    parent = model_at(data, owner[:-1])
    info = _field(parent, str(owner[-1])) if parent is not None else None
    return kind_members(info.annotation) if info is not None else {}


def choices_for(data: Any, path: SpecPath) -> list[str]:
    """The values a field of fixed choices (``direction: maf | iaf``, a boolean) takes."""
    if not path or isinstance(path[-1], int):
        return []
    model = model_at(data, path[:-1])
    info = _field(model, str(path[-1])) if model is not None else None
    if info is None:
        return []
    return _literals(info.annotation)


def _literals(annotation: Any) -> list[str]:
    if annotation is bool:
        return ["true", "false"]
    if get_origin(annotation) is Literal:
        return [str(arg) for arg in get_args(annotation)]
    found: list[str] = []
    if get_origin(annotation) not in (Union, types.UnionType, Annotated):
        return found
    for arg in get_args(annotation):
        found += [value for value in _literals(arg) if value not in found]
    return found
