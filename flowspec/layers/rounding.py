"""Rounding and variational dequantization (specs and maths: ``flowspec.nodes.rounding``)."""

from __future__ import annotations

import math

import torch
from torch.nn import functional as F

from flowspec.core.layer import FlowLayer
from flowspec.layers.densities.base import Density

__all__ = ["Rounding"]


class Rounding(FlowLayer):
    """``z = (x + u) / scale`` with ``u = sigmoid(v)``, ``v ~ q(v | x)``; inverse
    ``floor(scale z)``. ``scale`` is K when ``rescale`` (into (0, 1)), else 1."""

    def __init__(self, levels: int, rescale: bool, dequantizer: Density) -> None:
        super().__init__()
        self.levels = levels
        self.scale = float(levels) if rescale else 1.0
        self.log_scale = math.log(self.scale) * dequantizer.event_numel
        self.dequantizer = dequantizer

    def forward(
        self, x: torch.Tensor, context: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        centred = 2 * x / max(self.levels - 1, 1) - 1
        v, log_q = self.dequantizer.sample_and_log_prob(centred)
        log_q = log_q - (F.logsigmoid(v) + F.logsigmoid(-v)).flatten(1).sum(1)
        # As in uniform dequantization: keep x + u strictly inside the cell in any dtype.
        margin = max(1e-6, 4 * self.levels * torch.finfo(x.dtype).eps)
        u = torch.sigmoid(v).clamp(margin, 1.0 - margin)
        return (x + u) / self.scale, -log_q - self.log_scale

    def inverse(self, z: torch.Tensor, context: torch.Tensor | None = None) -> torch.Tensor:
        return torch.floor(z * self.scale).clamp(0, self.levels - 1)
