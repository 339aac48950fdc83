"""The registry of node kinds and conditioner networks.

Every module in ``flowspec.nodes`` and ``flowspec.conditioners`` is imported once, and each
:class:`~flowspec.core.node.NodeSpec` subclass found there is registered under its
``kind``. Third-party packages add kinds through the ``flowspec.nodes`` entry-point group
(each entry point names a module to import). The compiler never lists kinds by hand.
"""

from __future__ import annotations

import importlib
import pkgutil
from functools import cache
from importlib.metadata import entry_points

from pydantic import BaseModel

from flowspec.core.node import NodeSpec

__all__ = ["node_kinds", "net_kinds", "NOT_INVERTIBLE"]

#: Kinds users ask for that cannot be bijections, with what to use instead.
NOT_INVERTIBLE: dict[str, str] = {
    "relu": "relu maps every negative value to 0, so it is not invertible; use "
    "{kind: elementwise, fn: leaky_relu} (strictly monotone) instead",
    "abs": "abs is two-to-one, so it is not a bijection (an abs surjection is not in "
    "flowspec yet); use {kind: elementwise, fn: leaky_relu}",
    "square": "x**2 is two-to-one, so it is not a bijection; use a strictly monotone map",
}


def _import_package(name: str) -> None:
    package = importlib.import_module(name)
    for module in pkgutil.iter_modules(package.__path__):
        importlib.import_module(f"{name}.{module.name}")


def _subclasses(base: type) -> list[type]:
    found = []
    for sub in base.__subclasses__():
        found.append(sub)
        found.extend(_subclasses(sub))
    return found


@cache
def node_kinds() -> dict[str, type[NodeSpec]]:
    """Every registered node kind, by name, in a stable order."""
    _import_package("flowspec.nodes")
    for entry in entry_points(group="flowspec.nodes"):
        importlib.import_module(entry.value)
    kinds: dict[str, type[NodeSpec]] = {}
    for cls in _subclasses(NodeSpec):
        name = cls.model_fields["kind"].default
        if isinstance(name, str) and name:
            kinds[name] = cls
    return dict(sorted(kinds.items()))


@cache
def net_kinds() -> dict[str, type[BaseModel]]:
    """Every conditioner network kind, by name."""
    from flowspec.conditioners.base import NetSpec

    _import_package("flowspec.conditioners")
    return {
        cls.model_fields["kind"].default: cls
        for cls in _subclasses(NetSpec)
        if isinstance(cls.model_fields["kind"].default, str)
    }
