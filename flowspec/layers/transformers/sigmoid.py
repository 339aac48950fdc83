"""Torch side of :mod:`flowspec.transformers.sigmoid`."""

from __future__ import annotations

import torch
from torch.nn import functional as F

from flowspec.layers.transformers._inside import inside
from flowspec.layers.transformers.base import Transformer

__all__ = ["SigmoidTransformer"]


class SigmoidTransformer(Transformer):
    """``z = 1 / (1 + exp(-x))``; ``log sigmoid'(x) = -softplus(-x) - softplus(x)``, stable
    for large ``|x|``; ``z`` stays strictly inside (0, 1) (see :mod:`._inside`)."""

    takes_params = False

    def forward(
        self, x: torch.Tensor, params: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        return inside(torch.sigmoid(x), 0.0, 1.0), -F.softplus(-x) - F.softplus(x)

    def inverse(self, z: torch.Tensor, params: torch.Tensor | None = None) -> torch.Tensor:
        return torch.logit(z)
