"""Torch side of :mod:`flowspec.conditioners.wavenet` (van den Oord et al. 2016, arXiv:1609.03499)."""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from flowspec.core.layer import Layer

__all__ = ["WaveNet", "GatedBlock"]


class GatedBlock(Layer):
    """``h + W (tanh(a) * sigmoid(b))`` with ``(a, b)`` from a dilated causal convolution."""

    def __init__(self, hidden: int, kernel: int, dilation: int, context: int) -> None:
        super().__init__()
        self.left = (kernel - 1) * dilation
        self.conv = nn.Conv1d(hidden, 2 * hidden, kernel, dilation=dilation)
        self.context = nn.Linear(context, 2 * hidden) if context else None
        self.mix = nn.Conv1d(hidden, hidden, 1)

    def forward(self, h: torch.Tensor, context: torch.Tensor | None) -> torch.Tensor:
        gates = self.conv(F.pad(h, (self.left, 0)))
        if self.context is not None and context is not None:
            gates = gates + self.context(context)[:, :, None]
        a, b = gates.chunk(2, dim=1)
        return h + self.mix(torch.tanh(a) * torch.sigmoid(b))


class WaveNet(Layer):
    """``(x, context) -> (batch, *shape, params)``; step ``t`` sees steps ``< t`` only."""

    def __init__(
        self, shape: list[int], hidden: int, layers: int, kernel: int, params: int, context: int
    ) -> None:
        super().__init__()
        self.shape = tuple(shape)
        self.params = params
        channels = shape[0] if len(shape) == 2 else 1
        self.inp = nn.Conv1d(channels, hidden, 1)
        self.blocks = nn.ModuleList(
            GatedBlock(hidden, kernel, 2**index, context) for index in range(layers)
        )
        self.out = nn.Conv1d(hidden, channels * params, 1)
        assert self.out.bias is not None  # built with a bias
        nn.init.zeros_(self.out.weight)
        nn.init.zeros_(self.out.bias)

    def forward(self, x: torch.Tensor, context: torch.Tensor | None = None) -> torch.Tensor:
        sequence = x.view(x.shape[0], -1, x.shape[-1])
        shifted = F.pad(sequence, (1, 0))[..., :-1]  # step t sees x up to t - 1
        h = self.inp(shifted)
        for block in self.blocks:
            h = block(h, context)
        out = self.out(h)  # (batch, channels * params, L), channel-major
        out = out.view(x.shape[0], -1, self.params, x.shape[-1]).transpose(2, 3)
        return out.reshape(x.shape[0], *self.shape, self.params)
