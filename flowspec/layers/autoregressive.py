"""Torch side of :mod:`flowspec.nodes.autoregressive`."""

from __future__ import annotations

import torch
from torch import nn

from flowspec.core.layer import FlowLayer
from flowspec.layers.transformers.base import Transformer

__all__ = ["AutoregressiveLayer"]


class AutoregressiveLayer(FlowLayer):
    """``z = tau(x; conditioner(x))`` (MAF) or ``z = tau(x; conditioner(z))`` (IAF).

    The sequential direction runs ``passes`` fixed-point sweeps: after sweep ``k`` every
    feature of rank below ``k`` in the conditioner's order is exact, so ``passes = D``
    sweeps give the exact answer whatever the order.
    """

    def __init__(
        self, conditioner: nn.Module, transformer: Transformer, maf: bool, passes: int
    ) -> None:
        super().__init__()
        self.conditioner = conditioner
        self.transformer = transformer
        self.maf = maf
        self.passes = passes

    def forward(
        self, x: torch.Tensor, context: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        if self.maf:
            z, log_derivative = self.transformer(x, self._params(x, context))
        else:
            z = torch.zeros_like(x)
            for _ in range(self.passes):
                z, log_derivative = self.transformer(x, self._params(z, context))
        return z, log_derivative.flatten(1).sum(1)

    def inverse(self, z: torch.Tensor, context: torch.Tensor | None = None) -> torch.Tensor:
        if not self.maf:
            return self.transformer.inverse(z, self._params(z, context))
        x = torch.zeros_like(z)
        for _ in range(self.passes):
            x = self.transformer.inverse(z, self._params(x, context))
        return x

    def _params(self, h: torch.Tensor, context: torch.Tensor | None) -> torch.Tensor | None:
        """The transformer's parameters from ``h``, or None for a fixed map."""
        return self.conditioner(h, context) if self.transformer.takes_params else None
