"""The registry of node kinds and of the parts nodes are built from.

Every module in ``flowspec.nodes``, ``flowspec.transformers``, ``flowspec.conditioners`` and
``flowspec.densities`` is imported once, and each spec class found there (a
:class:`~flowspec.core.node.NodeSpec`, ``TransformerSpec``, ``ConditionerSpec`` or
``DensitySpec`` subclass) is registered under its ``kind``. Third-party packages add node
kinds through the ``flowspec.nodes`` entry-point group (each entry point names a module to
import). The compiler, the schema, the CLI and the contract tests never list kinds by hand.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Mapping
from functools import cache
from importlib.metadata import entry_points
from typing import TYPE_CHECKING, Annotated, Any, Union

from pydantic import BaseModel, Discriminator, Field, Tag

from flowspec.core.node import NodeSpec

__all__ = [
    "node_kinds",
    "conditioner_kinds",
    "transformer_kinds",
    "density_kinds",
    "kind_union",
    "NOT_INVERTIBLE",
]

#: Kinds users ask for that cannot be bijections, with what to use instead.
NOT_INVERTIBLE: dict[str, str] = {
    "relu": "relu maps every negative value to 0, so it is not invertible; use "
    "{kind: elementwise, fn: leaky_relu} (strictly monotone) instead",
    "abs": "abs is two-to-one, so it is not a bijection: {kind: abs} is the abs surjection "
    "(it models the lost sign); or use {kind: elementwise, fn: leaky_relu}",
    "square": "x**2 is two-to-one, so it is not a bijection; use a strictly monotone map",
}


if TYPE_CHECKING:
    from flowspec.conditioners.base import ConditionerSpec
    from flowspec.transformers.base import TransformerSpec

#: Modules that build a union over their package's kinds: importing them during discovery
#: would freeze the union before every kind is registered.
_UNION_MODULES = frozenset({"choice"})


def _import_package(name: str) -> None:
    package = importlib.import_module(name)
    for module in pkgutil.iter_modules(package.__path__):
        if module.name not in _UNION_MODULES:
            importlib.import_module(f"{name}.{module.name}")


def _by_kind(base: type, exclude: type | None = None) -> dict[str, Any]:
    """Every subclass of ``base`` (but not of ``exclude``) with a ``kind`` default, by name,
    in a stable order."""
    kinds: dict[str, Any] = {}
    for cls in _subclasses(base):
        if exclude is not None and issubclass(cls, exclude):
            continue
        name = cls.model_fields["kind"].default
        if isinstance(name, str) and name:
            kinds[name] = cls
    return dict(sorted(kinds.items()))


def kind_union(kinds: Mapping[str, type[BaseModel]], default: str | None = None) -> Any:
    """The pydantic type of a field that takes any of ``kinds``, chosen by ``kind`` (a
    discriminated union, so errors and the JSON Schema name the kind). With ``default``,
    a value that leaves ``kind`` out is read as that kind (``{hidden: [8]}`` is an mlp),
    so that adding a kind to a role keeps existing specs valid."""
    members = tuple(kinds.values())
    if len(members) == 1:
        return members[0]
    if default is None or default not in kinds:
        return Annotated[Union[members], Field(discriminator="kind")]  # noqa: UP007

    def tag(value: Any) -> str:
        if isinstance(value, dict):
            return value.get("kind", default)
        return getattr(value, "kind", default)

    tagged = tuple(Annotated[cls, Tag(name)] for name, cls in kinds.items())
    return Annotated[Union[tagged], Discriminator(tag)]  # noqa: UP007


def _subclasses(base: type) -> list[Any]:
    found: list[Any] = []
    direct: list[Any] = base.__subclasses__()
    for sub in direct:
        found.append(sub)
        found.extend(_subclasses(sub))
    return found


@cache
def node_kinds() -> dict[str, type[NodeSpec]]:
    """Every registered node kind, by name, in a stable order."""
    _import_package("flowspec.nodes")
    for entry in entry_points(group="flowspec.nodes"):
        importlib.import_module(entry.value)
    return _by_kind(NodeSpec)


@cache
def transformer_kinds() -> dict[str, type[TransformerSpec]]:
    """Every elementwise transformer kind, by name."""
    from flowspec.transformers.base import TransformerSpec

    _import_package("flowspec.transformers")
    return _by_kind(TransformerSpec)


@cache
def conditioner_kinds() -> dict[str, type[ConditionerSpec]]:
    """Every conditioner kind, by name."""
    from flowspec.conditioners.base import ConditionerSpec

    _import_package("flowspec.conditioners")
    return _by_kind(ConditionerSpec)


@cache
def density_kinds() -> dict[str, type[BaseModel]]:
    """Every conditional density kind (a ``DensitySpec``), by name. Node kinds that are a
    density used as a base distribution (the ``categorical`` node) are node kinds, not
    densities."""
    _import_package("flowspec.densities")
    # Found through the package just imported, not a static import: the densities' base
    # imports the conditioners' unions, which import this module.
    base = importlib.import_module("flowspec.densities.base").DensitySpec
    return _by_kind(base, exclude=NodeSpec)
