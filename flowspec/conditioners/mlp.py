"""A multilayer perceptron conditioner (its torch module: :mod:`flowspec.layers.conditioners.mlp`).

Example::

    net: {kind: mlp, hidden: [64, 64], activation: relu}
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Literal

from pydantic import Field

from flowspec.conditioners.base import NetSpec

if TYPE_CHECKING:
    from flowspec.layers.conditioners.mlp import MLP

__all__ = ["MLPSpec", "MAX_WIDTH"]

#: The widest hidden layer (a 65536 x 65536 layer already holds 4 G weights).
MAX_WIDTH = 65536


class MLPSpec(NetSpec):
    """Fully connected layers with the given hidden sizes and activation."""

    kind: Literal["mlp"] = "mlp"
    hidden: list[Annotated[int, Field(gt=0, le=MAX_WIDTH)]] = Field(
        default=[64, 64], description=f"Hidden layer sizes (each 1 .. {MAX_WIDTH})."
    )
    activation: Literal["relu", "leaky_relu", "elu", "gelu", "silu", "tanh"] = Field(
        default="relu", description="Activation between layers."
    )

    def build(self, in_features: int, out_features: int, *, zero_init: bool = True) -> MLP:
        from flowspec.layers.conditioners.mlp import MLP

        return MLP(in_features, list(self.hidden), out_features, self.activation, zero_init)


