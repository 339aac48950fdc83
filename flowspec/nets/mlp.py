"""A multilayer perceptron conditioner."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field
from torch import nn

from flowspec.core.layer import Layer
from flowspec.nets.base import NetSpec

__all__ = ["MLPSpec", "MLP", "ACTIVATIONS", "MAX_WIDTH"]

#: The widest hidden layer (a 65536 x 65536 layer already holds 4 G weights).
MAX_WIDTH = 65536

#: Activation names as written in specs -> the name of the ``torch.nn`` module class.
ACTIVATIONS: dict[str, str] = {
    "relu": "ReLU",
    "leaky_relu": "LeakyReLU",
    "elu": "ELU",
    "gelu": "GELU",
    "silu": "SiLU",
    "tanh": "Tanh",
}


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
        return MLP(in_features, list(self.hidden), out_features, self.activation, zero_init)


class MLP(Layer, nn.Sequential):
    """Linear layers with an activation between them; the last layer may start at zero."""

    def __init__(
        self,
        in_features: int,
        hidden: list[int],
        out_features: int,
        activation: str = "relu",
        zero_init: bool = True,
    ):
        sizes = [in_features, *hidden]
        layers: list[nn.Module] = []
        for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
            layers += [nn.Linear(fan_in, fan_out), getattr(nn, ACTIVATIONS[activation])()]
        last = nn.Linear(sizes[-1], out_features)
        if zero_init:
            nn.init.zeros_(last.weight)
            nn.init.zeros_(last.bias)
        layers.append(last)
        super().__init__(*layers)
