"""Torch side of :mod:`flowspec.transformers.exp`."""

from __future__ import annotations

import torch

from flowspec.layers.transformers.base import Transformer

__all__ = ["ExpTransformer"]


class ExpTransformer(Transformer):
    """``z = exp(x)``; ``log exp'(x) = x``."""

    takes_params = False

    def forward(
        self, x: torch.Tensor, params: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        return torch.exp(x), x

    def inverse(self, z: torch.Tensor, params: torch.Tensor | None = None) -> torch.Tensor:
        return torch.log(z)
