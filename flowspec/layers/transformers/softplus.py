"""Torch side of :mod:`flowspec.transformers.softplus`."""

from __future__ import annotations

import math

import torch
from torch.nn import functional as F

from flowspec.layers.transformers._inside import inside
from flowspec.layers.transformers.base import Transformer

__all__ = ["SoftplusTransformer"]


class SoftplusTransformer(Transformer):
    """``z = log(1 + exp(x))``; ``log softplus'(x) = -softplus(-x)``; ``z`` stays strictly
    inside (0, inf) (see :mod:`._inside`)."""

    takes_params = False

    def forward(
        self, x: torch.Tensor, params: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        return inside(F.softplus(x), 0.0, math.inf), -F.softplus(-x)

    def inverse(self, z: torch.Tensor, params: torch.Tensor | None = None) -> torch.Tensor:
        # x = log(exp(z) - 1) = z + log(1 - exp(-z))
        return z + torch.log(-torch.expm1(-z))
