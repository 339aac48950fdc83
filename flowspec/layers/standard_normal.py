"""The torch modules of standard normal base distribution (spec, shape rule and formulas:
:mod:`flowspec.nodes.standard_normal`)."""

from __future__ import annotations

import math

import torch

from flowspec.core.layer import DistributionLayer
from flowspec.layers.densities.gaussian import LOG_SQRT_2PI

__all__ = ["StandardNormal"]


class StandardNormal(DistributionLayer):
    """N(0, I) over the event; the ``anchor`` buffer gives samples their device and dtype."""

    anchor: torch.Tensor

    def __init__(self, shape: tuple[int, ...]) -> None:
        super().__init__()
        self.shape = tuple(shape)
        self.register_buffer("anchor", torch.zeros(()), persistent=False)

    def forward(self, z: torch.Tensor, context: torch.Tensor | None = None) -> torch.Tensor:
        return -0.5 * z.pow(2).flatten(1).sum(1) - LOG_SQRT_2PI * math.prod(self.shape)

    def sample(self, n: int, context: torch.Tensor | None = None) -> torch.Tensor:
        return torch.randn(n, *self.shape, device=self.anchor.device, dtype=self.anchor.dtype)
