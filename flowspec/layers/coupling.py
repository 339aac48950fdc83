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

    def couple(
        self, a: torch.Tensor, b: torch.Tensor, context: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Inference on the parts already split: ``(z_b, contribution)``. Optimized code
        (:mod:`flowspec.optimize`) calls this with parts it took by its own index sets."""
        z_b, log_derivative = self.transformer(b, self._params(a, context))
        return z_b, self.parts.total(log_derivative)

    def uncouple(
        self, a: torch.Tensor, z_b: torch.Tensor, context: torch.Tensor | None = None
    ) -> torch.Tensor:
        """Generation on the parts already split: ``x_b``."""
        return self.transformer.inverse(z_b, self._params(a, context))

    def _params(self, a: torch.Tensor, context: torch.Tensor | None) -> torch.Tensor | None:
        """The transformer's parameters from the kept part, or None for a fixed map."""
        return self.conditioner(a, context) if self.transformer.takes_params else None

    def forward(
        self, x: torch.Tensor, context: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        a, b = self.parts.split(x)
        z_b, contribution = self.couple(a, b, context)
        return self.parts.merge(a, z_b), contribution

    def inverse(self, z: torch.Tensor, context: torch.Tensor | None = None) -> torch.Tensor:
        a, z_b = self.parts.split(z)
        return self.parts.merge(a, self.uncouple(a, z_b, context))
