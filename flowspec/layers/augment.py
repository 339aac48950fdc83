"""The torch modules of VFlow augmentation (spec, shape rule and formulas:
:mod:`flowspec.nodes.augment`)."""

from __future__ import annotations

import torch

from flowspec.core.layer import FlowLayer
from flowspec.layers.densities.base import Density

__all__ = ["Augment"]


class Augment(FlowLayer):
    """Appends noise drawn from the encoder given the input, scored by ``-log q``;
    the inverse drops it."""

    def __init__(self, features: int, encoder: Density) -> None:
        super().__init__()
        self.features = features
        self.encoder = encoder

    def forward(
        self, x: torch.Tensor, context: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        e, log_q = self.encoder.sample_and_log_prob(x)
        return torch.cat([x, e], dim=1), -log_q

    def inverse(self, z: torch.Tensor, context: torch.Tensor | None = None) -> torch.Tensor:
        return z[:, : self.features]
