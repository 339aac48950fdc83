"""Torch side of :mod:`flowspec.transformers.exp`."""

from __future__ import annotations

import math

import torch

from flowspec.layers.transformers._inside import inside
from flowspec.layers.transformers.base import Transformer

__all__ = ["ExpTransformer"]


class ExpTransformer(Transformer):
    """``z = exp(x)``; ``log exp'(x) = x``; ``z`` stays strictly inside (0, inf) (see
    :mod:`._inside`)."""

    takes_params = False

    def forward(
        self, x: torch.Tensor, params: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        return inside(torch.exp(x), 0.0, math.inf), x

    def inverse(self, z: torch.Tensor, params: torch.Tensor | None = None) -> torch.Tensor:
        return torch.log(z)
