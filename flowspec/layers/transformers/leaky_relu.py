"""Torch side of :mod:`flowspec.transformers.leaky_relu`."""

from __future__ import annotations

import math

import torch

from flowspec.layers.transformers.base import Transformer

__all__ = ["LeakyReLUTransformer"]


class LeakyReLUTransformer(Transformer):
    """``z = x`` for ``x >= 0`` and ``negative_slope * x`` below."""

    takes_params = False

    def __init__(self, negative_slope: float) -> None:
        super().__init__()
        self.negative_slope = float(negative_slope)
        self.log_slope = math.log(self.negative_slope)

    def forward(
        self, x: torch.Tensor, params: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        positive = x >= 0
        z = torch.where(positive, x, x * self.negative_slope)
        log_slope = torch.full_like(x, self.log_slope)
        return z, torch.where(positive, torch.zeros_like(x), log_slope)

    def inverse(self, z: torch.Tensor, params: torch.Tensor | None = None) -> torch.Tensor:
        return torch.where(z >= 0, z, z / self.negative_slope)
