"""Torch side of :mod:`flowspec.transformers.affine`."""

from __future__ import annotations

import torch

from flowspec.layers.transformers.base import LinearTransformer

__all__ = ["AffineTransformer"]


class AffineTransformer(LinearTransformer):
    """``z = x * exp(s) + t`` with ``s = B tanh(s_raw / B)`` (RealNVP's affine coupling,
    Dinh et al. 2016, arXiv:1605.08803, with a soft bound on the log-scale); params
    ``(s_raw, t)``."""

    def __init__(self, scale_bound: float) -> None:
        super().__init__()
        self.scale_bound = scale_bound
        # B as a 0-dim float64 tensor (not saved): an op with a Python number first wraps
        # it in a tensor, which costs about half an op's dispatch on small models; float64
        # keeps it exact after .double() and computes in the input's dtype otherwise.
        bound = torch.tensor(float(scale_bound), dtype=torch.float64)
        self.register_buffer("bound", bound, persistent=False)

    def _log_scale(self, raw: torch.Tensor) -> torch.Tensor:
        # Read from _buffers: ``self.bound`` finds it only after a failed lookup (on
        # CPython 3.11 that builds an AttributeError, as costly as a tensor op).
        bound: torch.Tensor = self._buffers["bound"]  # type: ignore[assignment]  # registered
        return bound * torch.tanh(raw / bound)

    def scale_shift(self, params: torch.Tensor) -> tuple[torch.Tensor, ...]:
        raw, shift = params.unbind(-1)
        log_scale = self._log_scale(raw)
        return torch.exp(log_scale), shift, log_scale

    def forward(self, x: torch.Tensor, params: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        raw, shift = params.unbind(-1)
        log_scale = self._log_scale(raw)
        # One fused multiply-add for x * exp(s) + t.
        return torch.addcmul(shift, x, torch.exp(log_scale)), log_scale

    def inverse(self, z: torch.Tensor, params: torch.Tensor) -> torch.Tensor:
        raw, shift = params.unbind(-1)
        return (z - shift) / torch.exp(self._log_scale(raw))
