"""Torch side of :mod:`flowspec.transformers.affine`."""

from __future__ import annotations

import torch

from flowspec.layers.transformers.base import LinearTransformer

__all__ = ["AffineTransformer"]


class AffineTransformer(LinearTransformer):
    """``z = x * exp(s) + t`` with ``s = B tanh(s_raw / B)``; params ``(s_raw, t)``."""

    def __init__(self, scale_bound: float):
        super().__init__()
        self.scale_bound = scale_bound

    def _log_scale_shift(self, params: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        raw, shift = params.unbind(-1)
        return self.scale_bound * torch.tanh(raw / self.scale_bound), shift

    def scale_shift(self, params: torch.Tensor) -> tuple[torch.Tensor, ...]:
        log_scale, shift = self._log_scale_shift(params)
        return torch.exp(log_scale), shift, log_scale

    def forward(self, x: torch.Tensor, params: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        log_scale, shift = self._log_scale_shift(params)
        return x * torch.exp(log_scale) + shift, log_scale

    def inverse(self, z: torch.Tensor, params: torch.Tensor) -> torch.Tensor:
        log_scale, shift = self._log_scale_shift(params)
        return (z - shift) * torch.exp(-log_scale)
