"""The discrete flow's torch module (spec and maths: ``flowspec.nodes.discrete_flow``)."""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from flowspec.core.layer import FlowLayer
from flowspec.layers._softmax import softmax_last

__all__ = ["DiscreteFlow", "straight_through"]


def straight_through(
    logits: torch.Tensor, values: torch.Tensor, temperature: float
) -> torch.Tensor:
    """The value at the argmax of ``logits``, with the gradient of the softmax expectation."""
    soft = (softmax_last(logits / temperature) * values).sum(-1)
    hard = values[logits.argmax(-1)]
    return hard + (soft - soft.detach())


class DiscreteFlow(FlowLayer):
    """``z_b = (mu + sigma x_b) mod K`` given the one-hot kept part; zero contribution."""

    shifts: torch.Tensor
    scales: torch.Tensor
    inverses: torch.Tensor

    def __init__(
        self, keep: int, levels: int, scales: list[int], temperature: float, net: nn.Module
    ) -> None:
        super().__init__()
        self.keep = keep
        self.levels = levels
        self.temperature = temperature
        self.net = net
        inverses = [pow(s, -1, levels) if levels > 1 else 1 for s in scales]
        self.register_buffer("shifts", torch.arange(levels), persistent=False)
        self.register_buffer("scales", torch.tensor(scales), persistent=False)
        self.register_buffer("inverses", torch.tensor(inverses), persistent=False)

    def _params(
        self, a: torch.Tensor, change: int
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        one_hot = F.one_hot(a.detach().long().clamp(0, self.levels - 1), self.levels)
        raw = self.net(one_hot.to(a.dtype).flatten(1)).reshape(a.shape[0], change, -1)
        shift_logits, scale_logits = raw[..., : self.levels], raw[..., self.levels :]
        shift = straight_through(shift_logits, self.shifts.to(a.dtype), self.temperature)
        scale = straight_through(scale_logits, self.scales.to(a.dtype), self.temperature)
        inverse = self.inverses[scale_logits.argmax(-1)].to(a.dtype)
        return shift, scale, inverse

    def forward(
        self, x: torch.Tensor, context: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        a, b = x[:, : self.keep], x[:, self.keep :]
        shift, scale, _ = self._params(a, b.shape[1])
        z = torch.remainder(shift + scale * b, self.levels)
        return torch.cat([a, z], dim=1), x.new_zeros(x.shape[0])

    def inverse(self, z: torch.Tensor, context: torch.Tensor | None = None) -> torch.Tensor:
        a, b = z[:, : self.keep], z[:, self.keep :]
        shift, _, inverse = self._params(a, b.shape[1])
        return torch.cat([a, torch.remainder(inverse * (b - shift), self.levels)], dim=1)
