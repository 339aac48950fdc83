"""The torch modules of NICE additive coupling (spec, shape rule and formulas:
:mod:`flowspec.nodes.additive_coupling`)."""

from __future__ import annotations

import torch
from torch import nn

from flowspec.core.layer import FlowLayer
from flowspec.layers._coupling import MaskedSplit, conditioner_input

__all__ = ["AdditiveCoupling"]


class AdditiveCoupling(FlowLayer):
    """``z = merge(x_a, x_b + t(x_a, context))``; zero contribution."""

    def __init__(self, parts: MaskedSplit, net: nn.Module):
        super().__init__()
        self.parts = parts
        self.net = net

    def forward(self, x: torch.Tensor, context: torch.Tensor | None = None):
        a, b = self.parts.split(x)
        z = self.parts.merge(a, b + self.net(conditioner_input(a, context)))
        return z, x.new_zeros(x.shape[0])

    def inverse(self, z: torch.Tensor, context: torch.Tensor | None = None) -> torch.Tensor:
        a, b = self.parts.split(z)
        return self.parts.merge(a, b - self.net(conditioner_input(a, context)))
