"""Torch side of :mod:`flowspec.transformers.log`."""

from __future__ import annotations

import math

import torch

from flowspec.layers.transformers._inside import inside
from flowspec.layers.transformers.base import Transformer

__all__ = ["LogTransformer"]


class LogTransformer(Transformer):
    """``z = log(x)``; ``log log'(x) = -log x = -z``; the inverse stays strictly inside
    (0, inf) (see :mod:`._inside`)."""

    takes_params = False

    def forward(
        self, x: torch.Tensor, params: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        z = torch.log(x)
        return z, -z

    def inverse(self, z: torch.Tensor, params: torch.Tensor | None = None) -> torch.Tensor:
        return inside(torch.exp(z), 0.0, math.inf)
