"""Torch side of :mod:`flowspec.transformers.tanh`."""

from __future__ import annotations

import math

import torch
from torch.nn import functional as F

from flowspec.layers.transformers._inside import inside
from flowspec.layers.transformers.base import Transformer

__all__ = ["TanhTransformer"]

LOG2 = math.log(2.0)


class TanhTransformer(Transformer):
    """``z = tanh(x)``; ``log(1 - tanh^2 x) = 2 (log 2 - x - softplus(-2x))``; ``z`` stays strictly
    inside (-1, 1) (see :mod:`._inside`)."""

    takes_params = False

    def forward(
        self, x: torch.Tensor, params: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        return inside(torch.tanh(x), -1.0, 1.0), 2.0 * (LOG2 - x - F.softplus(-2.0 * x))

    def inverse(self, z: torch.Tensor, params: torch.Tensor | None = None) -> torch.Tensor:
        return torch.atanh(z)
