"""The VAE node's torch module (spec and maths: ``flowspec.nodes.vae``)."""

from __future__ import annotations

import torch

from flowspec.core.layer import FlowLayer
from flowspec.layers.densities.base import Density

__all__ = ["VAE"]


class VAE(FlowLayer):
    """``z ~ q(z | x)``, contribution ``log p(x | z) - log q(z | x)``; inverse ``x ~ p(x | z)``."""

    def __init__(self, encoder: Density, decoder: Density) -> None:
        super().__init__()
        self.encoder = encoder
        self.decoder = decoder

    def forward(
        self, x: torch.Tensor, context: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        z, log_q = self.encoder.sample_and_log_prob(x.flatten(1))
        return z, self.decoder.log_prob(x, z) - log_q

    def inverse(self, z: torch.Tensor, context: torch.Tensor | None = None) -> torch.Tensor:
        return self.decoder.sample(z)
