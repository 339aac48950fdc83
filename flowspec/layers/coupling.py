"""Torch side of the coupling kinds (:mod:`flowspec.nodes._coupling`)."""

from __future__ import annotations

import torch
from torch import nn

from flowspec.core.layer import FlowLayer
from flowspec.layers._coupling import CheckerboardSplit, MaskedSplit
from flowspec.layers.transformers.base import Transformer

__all__ = ["CouplingLayer"]


class CouplingLayer(FlowLayer):
    """``z = merge(x_a, tau(x_b; conditioner(x_a, context)))``; the contribution is the
    partition's total of the transformer's log-derivatives."""

    def __init__(
        self,
        parts: MaskedSplit | CheckerboardSplit,
        conditioner: nn.Module,
        transformer: Transformer,
    ):
        super().__init__()
        self.parts = parts
        self.conditioner = conditioner
        self.transformer = transformer

    def forward(
        self, x: torch.Tensor, context: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        a, b = self.parts.split(x)
        z_b, log_derivative = self.transformer(b, self.conditioner(a, context))
        return self.parts.merge(a, z_b), self.parts.total(log_derivative)

    def inverse(self, z: torch.Tensor, context: torch.Tensor | None = None) -> torch.Tensor:
        a, b = self.parts.split(z)
        return self.parts.merge(a, self.transformer.inverse(b, self.conditioner(a, context)))
