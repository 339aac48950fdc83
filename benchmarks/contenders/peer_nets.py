"""Small helpers the peer contenders need around the libraries' own classes."""

from __future__ import annotations

from collections.abc import Sequence
from itertools import pairwise

import torch
from torch import nn

__all__ = ["ContextFreeMLP", "zero_last_linear"]


class ContextFreeMLP(nn.Module):
    """A ReLU MLP called as ``net(x, context)`` (nflows couplings pass a context, which is
    ignored here), with its output layer starting at zero."""

    def __init__(self, features_in: int, features_out: int, hidden: Sequence[int]):
        super().__init__()
        sizes = [features_in, *hidden]
        layers: list[nn.Module] = []
        for fan_in, fan_out in pairwise(sizes):
            layers += [nn.Linear(fan_in, fan_out), nn.ReLU()]
        layers.append(nn.Linear(sizes[-1], features_out))
        self.layers = nn.Sequential(*layers)
        zero_last_linear(self.layers)

    def forward(self, x: torch.Tensor, context: torch.Tensor | None = None) -> torch.Tensor:
        return self.layers(x)


def zero_last_linear(net: nn.Module) -> None:
    """Zero the weight and bias of the last layer with a ``weight`` parameter in ``net``
    (``nn.Linear``, or zuko's own ``Linear``), so the flow layer it parameterises starts
    at (or, for nflows' scale map, near) the identity."""
    last = [m for m in net.modules() if isinstance(getattr(m, "weight", None), nn.Parameter)][-1]
    nn.init.zeros_(last.weight)
    if isinstance(getattr(last, "bias", None), nn.Parameter):
        nn.init.zeros_(last.bias)
