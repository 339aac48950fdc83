"""Torch side of :mod:`flowspec.transformers.additive`."""

from __future__ import annotations

import torch

from flowspec.layers.transformers.base import LinearTransformer

__all__ = ["AdditiveTransformer"]


class AdditiveTransformer(LinearTransformer):
    """``z = x + t`` (NICE's additive coupling, Dinh et al. 2014, arXiv:1410.8516);
    params ``(t,)``."""

    def scale_shift(self, params: torch.Tensor) -> tuple[torch.Tensor | float, ...]:
        return 1.0, params.squeeze(-1), 0.0

    def forward(self, x: torch.Tensor, params: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return x + params.squeeze(-1), torch.zeros_like(x)

    def inverse(self, z: torch.Tensor, params: torch.Tensor) -> torch.Tensor:
        return z - params.squeeze(-1)
