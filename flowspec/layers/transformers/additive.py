"""Torch side of :mod:`flowspec.transformers.additive`."""

from __future__ import annotations

import torch

from flowspec.layers.transformers.base import LinearTransformer

__all__ = ["AdditiveTransformer"]


class AdditiveTransformer(LinearTransformer):
    """``z = x + t``; params ``(t,)``."""

    def scale_shift(self, params: torch.Tensor) -> tuple[torch.Tensor | float, ...]:
        return 1.0, params[..., 0], 0.0

    def forward(self, x: torch.Tensor, params: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return x + params[..., 0], torch.zeros_like(x)

    def inverse(self, z: torch.Tensor, params: torch.Tensor) -> torch.Tensor:
        return z - params[..., 0]
