"""The argmax surjection's torch module (spec and maths: ``flowspec.nodes.argmax``)."""

from __future__ import annotations

import torch
from torch.nn import functional as F

from flowspec.core.layer import FlowLayer
from flowspec.layers.densities.base import Density

__all__ = ["Argmax"]


class Argmax(FlowLayer):
    """``[D]`` categories in ``0..K-1`` -> ``[D * K]`` scores with that argmax per row."""

    def __init__(self, levels: int, encoder: Density) -> None:
        super().__init__()
        self.levels = levels
        self.encoder = encoder

    def forward(
        self, x: torch.Tensor, context: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        index = x.long().clamp(0, self.levels - 1).unsqueeze(-1)
        one_hot = F.one_hot(index.squeeze(-1), self.levels).to(x.dtype)
        v, log_q = self.encoder.sample_and_log_prob(one_hot.flatten(1))
        v = v.reshape(x.shape[0], -1, self.levels)
        chosen = v.gather(-1, index)
        below = chosen - F.softplus(chosen - v)
        z = torch.where(one_hot.bool(), v, below)
        log_det = (F.logsigmoid(chosen - v) * (1 - one_hot)).flatten(1).sum(1)
        return z.flatten(1), -(log_q - log_det)

    def inverse(self, z: torch.Tensor, context: torch.Tensor | None = None) -> torch.Tensor:
        return z.reshape(z.shape[0], -1, self.levels).argmax(-1).to(z.dtype)
