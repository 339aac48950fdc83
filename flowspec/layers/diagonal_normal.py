"""The torch modules of diagonal normal base distribution (spec, shape rule and formulas:
:mod:`flowspec.nodes.diagonal_normal`)."""

from __future__ import annotations

import torch
from torch import nn

from flowspec.core.layer import DistributionLayer
from flowspec.layers.densities.gaussian import LOG_SQRT_2PI

__all__ = ["DiagonalNormal"]


class DiagonalNormal(DistributionLayer):
    """N(loc, diag exp(log_scale)^2) over the event, both parameters learned."""

    def __init__(self, shape: tuple[int, ...]) -> None:
        super().__init__()
        self.shape = tuple(shape)
        self.loc = nn.Parameter(torch.zeros(self.shape))
        self.log_scale = nn.Parameter(torch.zeros(self.shape))

    def forward(self, z: torch.Tensor, context: torch.Tensor | None = None) -> torch.Tensor:
        eps = (z - self.loc) * torch.exp(-self.log_scale)
        return (-0.5 * eps.pow(2) - self.log_scale - LOG_SQRT_2PI).flatten(1).sum(1)

    def sample(self, n: int, context: torch.Tensor | None = None) -> torch.Tensor:
        eps = torch.randn(n, *self.shape, device=self.loc.device, dtype=self.loc.dtype)
        return self.loc + torch.exp(self.log_scale) * eps
