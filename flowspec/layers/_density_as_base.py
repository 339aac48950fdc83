"""The torch module of a base distribution that is a density part: a :class:`Density` used as
a terminal node (spec: :mod:`flowspec.nodes._density_as_base`)."""

from __future__ import annotations

import torch

from flowspec.core.layer import DistributionLayer
from flowspec.layers.densities.base import Density

__all__ = ["DensityDistribution"]


class DensityDistribution(DistributionLayer):
    """``log p(z | context)`` and draws from a :class:`Density`."""

    def __init__(self, density: Density) -> None:
        super().__init__()
        self.density = density

    def forward(self, z: torch.Tensor, context: torch.Tensor | None = None) -> torch.Tensor:
        return self.density.log_prob(z, context)

    def sample(self, n: int, context: torch.Tensor | None = None) -> torch.Tensor:
        return self.density.sample(context, n)
