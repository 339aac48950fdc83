"""``flowspec nodes PART``: a transformer, conditioner or density kind described like a node
kind (what it is, its paper, which node fields take it, its settings), so that a name from
the README's tables of parts (``flowspec nodes rq_spline``) answers instead of failing."""

from __future__ import annotations

import inspect
import sys
import types
from typing import Annotated, Union, get_args, get_origin

from pydantic import BaseModel
from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from flowspec.cli._fields import field_rows
from flowspec.cli._output import out
from flowspec.conditioners.base import ConditionerSpec
from flowspec.core.registry import (
    conditioner_kinds,
    density_kinds,
    node_kinds,
    transformer_kinds,
)
from flowspec.transformers.base import TransformerSpec

__all__ = ["part_kinds", "describe_part", "parts_footer"]


def part_kinds() -> dict[str, tuple[str, type[BaseModel]]]:
    """Every transformer, conditioner and density kind by name, with what it is; a node
    kind of the same name (``categorical``) is described as the node kind instead."""
    parts: dict[str, tuple[str, type[BaseModel]]] = {}
    for what, kinds in (
        ("transformer", transformer_kinds()),
        ("conditioner", conditioner_kinds()),
        ("density", density_kinds()),
    ):
        parts.update({name: (what, cls) for name, cls in kinds.items() if name not in parts})
    return parts


def _models_in(annotation: object) -> set[type]:
    """The models a field's type may hold (through unions, ``Annotated`` and lists)."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return {annotation}
    if get_origin(annotation) in (Annotated, Union, types.UnionType, list):
        found: set[type] = set()
        for arg in get_args(annotation):
            found |= _models_in(arg)
        return found
    return set()


def _taken_by(part: type[BaseModel]) -> str:
    """The node fields that accept ``part``, grouped by field: ``transformer: of coupling,
    elementwise``."""
    fields: dict[str, list[str]] = {}
    for name, cls in node_kinds().items():
        for field_name, info in cls.model_fields.items():
            if part in _models_in(info.annotation):
                fields.setdefault(info.alias or field_name, []).append(name)
    return "; ".join(f"{field}: of {', '.join(kinds)}" for field, kinds in fields.items())


def describe_part(name: str, console: Console | None = None) -> None:
    """Print a part kind: what it is, its paper, the fields that take it and its settings
    (to stdout, or to ``console``)."""
    what, cls = part_kinds()[name]
    console = console or out()
    console.print(Text(name, style="bold cyan"), Text(f"({what}, not a node kind)"))
    summary = getattr(cls, "summary", "") or inspect.cleandoc(cls.__doc__ or "").split("\n")[0]
    console.print(Text(summary), soft_wrap=True)
    console.print()
    facts = Table.grid(padding=(0, 2))
    facts.add_column(style="bold", no_wrap=True)
    facts.add_column()
    rows = [("reference", getattr(cls, "reference", "") or "-"), ("used in", _taken_by(cls) or "-")]
    if issubclass(cls, TransformerSpec):
        rows.append(("inverse", cls.inverse_cost.label))
    if issubclass(cls, ConditionerSpec):
        rows.append(("roles", ", ".join(sorted(cls.roles))))
    for label, value in rows:
        facts.add_row(label, Text(value))
    console.print(facts)
    settings = Table(title="settings", title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False)
    for column in ("field", "type", "default", "description"):
        settings.add_column(
            column, style="cyan" if column == "field" else None, no_wrap=column == "field"
        )
    for row in field_rows(cls, skip=("kind",)):
        settings.add_row(Text(row.name), Text(row.type), Text(row.default), Text(row.description))
    console.print(settings if settings.row_count else Text("settings: none (a fixed map)"))
    about = inspect.cleandoc(sys.modules[cls.__module__].__doc__ or "")
    if about:
        console.print(Text("about", style="bold"))
        console.print(Text(about), soft_wrap=True)


def parts_footer() -> Table:
    """The part kinds by what they are, under the table of node kinds."""
    by_what: dict[str, list[str]] = {}
    for name, (what, _) in part_kinds().items():
        by_what.setdefault(what, []).append(name)
    table = Table.grid(padding=(0, 2))
    table.title, table.title_justify = (
        "parts of nodes ('flowspec nodes NAME' describes one)",
        "left",
    )
    table.add_column(style="bold", no_wrap=True)
    table.add_column()
    for what, names in by_what.items():
        table.add_row("densities" if what == "density" else f"{what}s", ", ".join(sorted(names)))
    return table
