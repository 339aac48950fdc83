"""The type of a density field: any density kind in ``flowspec.densities``, by ``kind``.

Each kind the registry finds (:func:`flowspec.core.registry.density_kinds`) joins the
discriminated union, so adding a density is adding a file.
"""

from __future__ import annotations

from typing import Annotated, Any, Union

from pydantic import BeforeValidator, Field

from flowspec.core.registry import density_kinds

__all__ = ["DensityChoice", "kind_default"]


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
