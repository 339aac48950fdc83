"""A multilayer perceptron conditioner."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, PositiveInt
from torch import nn

from flowspec.nets.base import NetSpec

__all__ = ["MLPSpec", "ACTIVATIONS"]

ACTIVATIONS: dict[str, type[nn.Module]] = {
    "relu": nn.ReLU,
    "leaky_relu": nn.LeakyReLU,
    "elu": nn.ELU,
    "gelu": nn.GELU,
    "silu": nn.SiLU,
    "tanh": nn.Tanh,
}


class MLPSpec(NetSpec):
    """Fully connected layers with the given hidden sizes and activation."""

    kind: Literal["mlp"] = "mlp"
    hidden: list[PositiveInt] = Field(default=[64, 64], description="Hidden layer sizes.")
    activation: Literal["relu", "leaky_relu", "elu", "gelu", "silu", "tanh"] = Field(
        default="relu", description="Activation between layers."
    )

    def build(self, in_features: int, out_features: int, *, zero_init: bool = True) -> nn.Module:
        sizes = [in_features, *self.hidden]
        layers: list[nn.Module] = []
        for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
            layers += [nn.Linear(fan_in, fan_out), ACTIVATIONS[self.activation]()]
        last = nn.Linear(sizes[-1], out_features)
        if zero_init:
            nn.init.zeros_(last.weight)
            nn.init.zeros_(last.bias)
        layers.append(last)
        return nn.Sequential(*layers)
