"""The torch modules of SurVAE slice (spec, shape rule and formulas:
:mod:`flowspec.nodes.slice`)."""

from __future__ import annotations

import torch

from flowspec.core.layer import FlowLayer
from flowspec.layers.densities.base import Density

__all__ = ["Slice"]


class Slice(FlowLayer):
    """Keeps the first ``keep`` features; the decoder scores (and in generation draws)
    the rest given them."""

    def __init__(self, keep: int, decoder: Density) -> None:
        super().__init__()
        self.keep = keep
        self.decoder = decoder

    def forward(
        self, x: torch.Tensor, context: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        z, dropped = x[:, : self.keep], x[:, self.keep :]
        return z, self.decoder.log_prob(dropped, z)

    def inverse(self, z: torch.Tensor, context: torch.Tensor | None = None) -> torch.Tensor:
        return torch.cat([z, self.decoder.sample(z)], dim=1)
