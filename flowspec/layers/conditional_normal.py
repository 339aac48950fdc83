"""The torch modules of conditional normal base distribution (spec, shape rule and formulas:
:mod:`flowspec.nodes.conditional_normal`)."""

from __future__ import annotations

import torch

from flowspec.core.layer import DistributionLayer
from flowspec.layers.densities.base import Density

__all__ = ["ConditionalNormal"]


class ConditionalNormal(DistributionLayer):
    """A base distribution N(mu(c), diag sigma(c)^2) given the context tensor ``c``."""

    def __init__(self, density: Density) -> None:
        super().__init__()
        self.density = density

    def forward(self, z: torch.Tensor, context: torch.Tensor | None = None) -> torch.Tensor:
        if context is None:
            raise ValueError("conditional_normal needs a context tensor")
        return self.density.log_prob(z, context)

    def sample(self, n: int, context: torch.Tensor | None = None) -> torch.Tensor:
        if context is None:
            raise ValueError("conditional_normal needs a context tensor to sample")
        if context.shape[0] != n:
            raise ValueError(
                f"conditional_normal draws one sample per context row: n={n} but the "
                f"context has {context.shape[0]} rows"
            )
        return self.density.sample(context)
