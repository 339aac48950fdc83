"""Torch side of :mod:`flowspec.transformers.additive`."""

from __future__ import annotations

import torch

from flowspec.layers.transformers.base import Transformer

__all__ = ["AdditiveTransformer"]


class AdditiveTransformer(Transformer):
    """``z = x + t``; params ``(t,)``."""

    def forward(self, x: torch.Tensor, params: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return x + params[..., 0], torch.zeros_like(x)

    def inverse(self, z: torch.Tensor, params: torch.Tensor) -> torch.Tensor:
        return z - params[..., 0]
