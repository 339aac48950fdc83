"""Torch side of :mod:`flowspec.transformers.logit`."""

from __future__ import annotations

import math

import torch
from torch.nn import functional as F

from flowspec.layers.transformers._inside import inside
from flowspec.layers.transformers.base import Transformer

__all__ = ["LogitTransformer"]


class LogitTransformer(Transformer):
    """``z = logit(alpha + (1 - 2 alpha) x)``. With ``u = alpha + (1 - 2 alpha) x``,
    ``dz/dx = (1 - 2 alpha) / (u (1 - u))`` and ``-log u = softplus(-z)``,
    ``-log(1 - u) = softplus(z)``. The inverse keeps ``u`` strictly inside (0, 1), and ``x``
    strictly inside the domain ``(-alpha, 1 - alpha) / (1 - 2 alpha)``, where rounding the
    division would otherwise put a saturated ``u`` on its end (see :mod:`._inside`)."""

    takes_params = False

    def __init__(self, alpha: float = 0.0) -> None:
        super().__init__()
        self.alpha = float(alpha)
        self.width = 1.0 - 2.0 * self.alpha
        self.log_width = math.log(self.width)
        self.low, self.high = -self.alpha / self.width, (1.0 - self.alpha) / self.width

    def forward(
        self, x: torch.Tensor, params: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        u = self.alpha + self.width * x
        z = torch.log(u) - torch.log1p(-u)
        return z, self.log_width + F.softplus(-z) + F.softplus(z)

    def inverse(self, z: torch.Tensor, params: torch.Tensor | None = None) -> torch.Tensor:
        x = (inside(torch.sigmoid(z), 0.0, 1.0) - self.alpha) / self.width
        return inside(x, self.low, self.high)
