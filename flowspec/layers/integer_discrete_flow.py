"""The integer discrete flow's torch module (spec: ``flowspec.nodes.integer_discrete_flow``)."""

from __future__ import annotations

import torch
from torch import nn

from flowspec.core.layer import FlowLayer

__all__ = ["IntegerDiscreteFlow"]


class IntegerDiscreteFlow(FlowLayer):
    """``z_b = x_b + round(t(scale * x_a))``, rounding passed straight-through."""

    def __init__(self, keep: int, scale: float, net: nn.Module) -> None:
        super().__init__()
        self.keep = keep
        self.scale = scale
        self.net = net

    def _shift(self, a: torch.Tensor) -> torch.Tensor:
        t = self.net(a * self.scale) / self.scale
        return t + (torch.round(t) - t).detach()

    def forward(
        self, x: torch.Tensor, context: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        a, b = x[:, : self.keep], x[:, self.keep :]
        return torch.cat([a, b + self._shift(a)], dim=1), x.new_zeros(x.shape[0])

    def inverse(self, z: torch.Tensor, context: torch.Tensor | None = None) -> torch.Tensor:
        a, b = z[:, : self.keep], z[:, self.keep :]
        return torch.cat([a, b - self._shift(a)], dim=1)
