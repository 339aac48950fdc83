"""The torch modules of uniform dequantization (spec, shape rule and formulas:
:mod:`flowspec.nodes.uniform_dequantization`)."""

from __future__ import annotations

import math

import torch

from flowspec.core.layer import FlowLayer

__all__ = ["NOISE_MARGIN", "UniformDequantization"]


NOISE_MARGIN = 1e-6


class UniformDequantization(FlowLayer):
    """``z = (x + u) / K`` with ``u ~ U(0, 1)``; the inverse floors ``z * K``."""

    def __init__(self, levels: int, event_numel: int) -> None:
        super().__init__()
        self.levels = levels
        self.log_det = -event_numel * math.log(levels)

    def forward(
        self, x: torch.Tensor, context: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        margin = max(NOISE_MARGIN, 4 * self.levels * torch.finfo(x.dtype).eps)
        u = torch.rand_like(x).clamp(margin, 1.0 - margin)
        return (x + u) / self.levels, x.new_full((x.shape[0],), self.log_det)

    def inverse(self, z: torch.Tensor, context: torch.Tensor | None = None) -> torch.Tensor:
        return torch.floor(z * self.levels).clamp(0, self.levels - 1)
