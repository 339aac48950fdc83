"""The integer discrete flow's torch module (spec: ``flowspec.nodes.integer_discrete_flow``)."""

from __future__ import annotations

import torch
from torch import nn

from flowspec.core.layer import FlowLayer

__all__ = ["IntegerDiscreteFlow"]


class IntegerDiscreteFlow(FlowLayer):
    """``z_b = x_b + round(t(scale * x_a))``, rounding passed straight-through; ``x_a`` is
    the first ``keep`` entries of axis 1 (features, or channels of an image). A flat ``net``
    sees ``x_a`` flattened; a ``convolutional`` one gives ``(batch, *x_b, 1)``."""

    def __init__(self, keep: int, scale: float, net: nn.Module, *, convolutional: bool) -> None:
        super().__init__()
        self.keep = keep
        self.scale = scale
        self.net = net
        self.convolutional = convolutional

    def _shift(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        if self.convolutional:
            t = self.net(a * self.scale)[..., 0] / self.scale
        else:
            t = self.net(a.flatten(1) * self.scale).view_as(b) / self.scale
        return t + (torch.round(t) - t).detach()

    def forward(
        self, x: torch.Tensor, context: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        a, b = x[:, : self.keep], x[:, self.keep :]
        return torch.cat([a, b + self._shift(a, b)], dim=1), x.new_zeros(x.shape[0])

    def inverse(self, z: torch.Tensor, context: torch.Tensor | None = None) -> torch.Tensor:
        a, b = z[:, : self.keep], z[:, self.keep :]
        return torch.cat([a, b - self._shift(a, b)], dim=1)
