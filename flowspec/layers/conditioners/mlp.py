"""The multilayer perceptron conditioner's torch module (spec: :mod:`flowspec.conditioners.mlp`)."""

from __future__ import annotations

from itertools import pairwise
from typing import cast

import torch
from torch import nn

from flowspec.core.layer import Layer

__all__ = ["MLP", "FlatConditioner", "ACTIVATIONS"]


#: Activation names as written in specs -> the name of the ``torch.nn`` module class.
ACTIVATIONS: dict[str, str] = {
    "relu": "ReLU",
    "leaky_relu": "LeakyReLU",
    "elu": "ELU",
    "gelu": "GELU",
    "silu": "SiLU",
    "tanh": "Tanh",
    "softplus": "Softplus",
}


class MLP(Layer, nn.Sequential):
    """Linear layers with an activation (and optionally dropout) between them; the last layer
    may start at zero."""

    def __init__(
        self,
        in_features: int,
        hidden: list[int],
        out_features: int,
        activation: str = "relu",
        zero_init: bool = True,
        dropout: float = 0.0,
    ) -> None:
        sizes = [in_features, *hidden]
        layers: list[nn.Module] = []
        for fan_in, fan_out in pairwise(sizes):
            layers += [nn.Linear(fan_in, fan_out), getattr(nn, ACTIVATIONS[activation])()]
            if dropout:
                layers.append(nn.Dropout(dropout))
        last = nn.Linear(sizes[-1], out_features)
        if zero_init:
            nn.init.zeros_(last.weight)
            nn.init.zeros_(last.bias)
        layers.append(last)
        super().__init__(*layers)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """The last hidden layer's activations (everything but the last linear layer)."""
        for module in list(self)[:-1]:
            x = module(x)
        return x

    def head(self, features: torch.Tensor) -> torch.Tensor:
        """The last linear layer: ``self(x) == self.head(self.features(x))``."""
        return cast(torch.Tensor, self[-1](features))


class FlatConditioner(Layer):
    """A flat network as a conditioner: ``(a, context) -> (batch, *shape, params)``.

    The network sees the flattened kept part and the context side by side; its outputs are
    laid out parameter-major, so each parameter's slice is contiguous."""

    def __init__(self, net: nn.Module, shape: list[int], params: int) -> None:
        super().__init__()
        self.net = net
        self.shape = tuple(shape)
        self.params = params

    def forward(self, a: torch.Tensor, context: torch.Tensor | None = None) -> torch.Tensor:
        # Flat inputs and outputs skip the no-op flatten and the general movedim: on small
        # models every op's dispatch shows in the profile.
        h = a if a.dim() == 2 else a.flatten(1)
        if context is not None:
            h = torch.cat([h, context], dim=1)
        # ``_modules`` is where ``self.net`` finds the network after a failed lookup (on
        # CPython 3.11 that builds an AttributeError, as costly as a tensor op).
        net = cast(nn.Module, self._modules["net"])
        out = net(h).view(a.shape[0], self.params, *self.shape)
        return out.transpose(1, 2) if len(self.shape) == 1 else out.movedim(1, -1)
