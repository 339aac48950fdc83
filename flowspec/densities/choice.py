"""The type of a density field: any density kind in ``flowspec.densities``, by ``kind``.

Every module of this package is imported and each :class:`DensitySpec` subclass with a
``kind`` joins the discriminated union, so adding a density is adding a file.
"""

from __future__ import annotations

import importlib
import pkgutil
from typing import Annotated, Any, Union

from pydantic import BeforeValidator, Field

from flowspec.core.node import NodeSpec
from flowspec.densities.base import DensitySpec

__all__ = ["DensityChoice", "density_kinds", "kind_default"]


def density_kinds() -> dict[str, type[DensitySpec]]:
    """Every density kind, by name, in a stable order."""
    package = importlib.import_module("flowspec.densities")
    for module in pkgutil.iter_modules(package.__path__):
        if not module.name.startswith("_") and module.name != "choice":
            importlib.import_module(f"flowspec.densities.{module.name}")
    found: dict[str, type[DensitySpec]] = {}
    pending = list(DensitySpec.__subclasses__())
    while pending:
        cls = pending.pop()
        pending.extend(cls.__subclasses__())
        name = cls.model_fields["kind"].default
        # Node kinds built on a density (a categorical base) are not densities themselves.
        if isinstance(name, str) and name and not issubclass(cls, NodeSpec):
            found[name] = cls
    return dict(sorted(found.items()))


def _density_union() -> Any:
    return Annotated[Union[tuple(density_kinds().values())], Field(discriminator="kind")]  # noqa: UP007


DensityChoice = _density_union()


def kind_default(default_kind: str) -> BeforeValidator:
    """For a density field, ``Annotated[DensityChoice, kind_default("gaussian")]``, whose
    ``kind`` may be left out: ``{net: ...}`` then means ``{kind: default_kind, net: ...}``
    (so ``decoder: {net: ...}`` stays a Gaussian)."""

    def fill_kind(value: Any) -> Any:
        if isinstance(value, dict) and "kind" not in value:
            return {"kind": default_kind, **value}
        return value

    return BeforeValidator(fill_kind)
