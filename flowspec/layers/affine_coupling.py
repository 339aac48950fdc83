"""The torch modules of RealNVP affine coupling (spec, shape rule and formulas:
:mod:`flowspec.nodes.affine_coupling`)."""

from __future__ import annotations

import torch
from torch import nn

from flowspec.core.layer import FlowLayer
from flowspec.layers._coupling import MaskedSplit, conditioner_input

__all__ = ["AffineCoupling"]


class AffineCoupling(FlowLayer):
    """``z = merge(x_a, x_b * exp(s) + t)`` with ``s, t`` from ``(x_a, context)``."""

    def __init__(self, parts: MaskedSplit, net: nn.Module, scale_bound: float):
        super().__init__()
        self.parts = parts
        self.net = net
        self.scale_bound = scale_bound

    def _scale_shift(
        self, a: torch.Tensor, context: torch.Tensor | None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        raw_scale, shift = self.net(conditioner_input(a, context)).chunk(2, dim=1)
        return self.scale_bound * torch.tanh(raw_scale / self.scale_bound), shift

    def forward(
        self, x: torch.Tensor, context: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        a, b = self.parts.split(x)
        log_scale, shift = self._scale_shift(a, context)
        z = self.parts.merge(a, b * torch.exp(log_scale) + shift)
        return z, log_scale.sum(dim=1)

    def inverse(self, z: torch.Tensor, context: torch.Tensor | None = None) -> torch.Tensor:
        a, b = self.parts.split(z)
        log_scale, shift = self._scale_shift(a, context)
        return self.parts.merge(a, (b - shift) * torch.exp(-log_scale))
