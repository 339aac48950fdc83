"""The type of a ``net:`` field: any registered conditioner network, chosen by ``kind``."""

from __future__ import annotations

from flowspec.conditioners.mlp import MLPSpec

__all__ = ["NetChoice"]

# One network kind so far; when a second arrives this becomes
# ``Annotated[MLPSpec | OtherSpec, Field(discriminator="kind")]``.
NetChoice = MLPSpec
