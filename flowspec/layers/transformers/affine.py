"""Torch side of :mod:`flowspec.transformers.affine`."""

from __future__ import annotations

from collections.abc import Sequence

import torch

from flowspec.layers.transformers.base import LinearTransformer

__all__ = ["AffineTransformer"]


class AffineTransformer(LinearTransformer):
    """``z = x * exp(s) + t`` with ``s = B tanh(s_raw / B)``; params ``(s_raw, t)``."""

    def __init__(self, scale_bound: float) -> None:
        super().__init__()
        self.scale_bound = scale_bound

    def _log_scale(self, raw: torch.Tensor) -> torch.Tensor:
        return self.scale_bound * torch.tanh(raw / self.scale_bound)

    def scale_shift(self, params: torch.Tensor) -> tuple[torch.Tensor, ...]:
        raw, shift = params.unbind(-1)
        log_scale = self._log_scale(raw)
        return torch.exp(log_scale), shift, log_scale

    def forward(self, x: torch.Tensor, params: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return self.forward_parts(x, params.unbind(-1))

    def inverse(self, z: torch.Tensor, params: torch.Tensor) -> torch.Tensor:
        return self.inverse_parts(z, params.unbind(-1))

    def forward_parts(
        self, x: torch.Tensor, params: Sequence[torch.Tensor]
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """:meth:`forward` with the parameters as separate tensors ``(s_raw, t)``."""
        raw, shift = params
        log_scale = self._log_scale(raw)
        return x * torch.exp(log_scale) + shift, log_scale

    def inverse_parts(self, z: torch.Tensor, params: Sequence[torch.Tensor]) -> torch.Tensor:
        """:meth:`inverse` with the parameters as separate tensors ``(s_raw, t)``."""
        raw, shift = params
        return (z - shift) * torch.exp(-self._log_scale(raw))
