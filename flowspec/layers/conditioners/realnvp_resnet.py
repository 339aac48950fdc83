"""Real NVP's ResNet conditioner's torch module (spec:
:mod:`flowspec.conditioners.realnvp_resnet`)."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from flowspec.core.layer import Layer
from flowspec.layers.conditioners.mlp import ACTIVATIONS

__all__ = ["RealNVPResNet", "WeightNormConv2d"]


class WeightNormConv2d(Layer):
    """A 'same'-padded convolution with weight ``g v / |v|`` per output channel (Salimans and
    Kingma 2016, arXiv:1602.07868). The gain starts at ``|v|`` (the weight is then ``v``,
    torch's default convolution initialisation), or at zero with ``zero``."""

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel: int,
        bias: bool = True,
        zero: bool = False,
    ) -> None:
        super().__init__()
        conv = nn.Conv2d(in_channels, out_channels, kernel, bias=bias)
        self.pad = kernel // 2
        self.direction = nn.Parameter(conv.weight.detach().clone())
        gain = torch.zeros(out_channels) if zero else self.direction.detach().flatten(1).norm(dim=1)
        self.gain = nn.Parameter(gain.clone())
        self.bias: nn.Parameter | None = None
        if conv.bias is not None:
            self.bias = nn.Parameter(torch.zeros(out_channels) if zero else conv.bias.detach())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        norm = self.direction.flatten(1).norm(dim=1)
        weight = self.direction * (self.gain / norm).view(-1, 1, 1, 1)
        return F.conv2d(x, weight, self.bias, padding=self.pad)


class _Block(Layer):
    """``h + conv(act(bn(conv(act(bn(h))))))``, the first convolution without a bias (a
    batch norm follows it)."""

    def __init__(self, channels: int, kernel: int, activation: str) -> None:
        super().__init__()
        act = getattr(nn, ACTIVATIONS[activation])
        self.body = nn.Sequential(
            nn.BatchNorm2d(channels),
            act(),
            WeightNormConv2d(channels, channels, kernel, bias=False),
            nn.BatchNorm2d(channels),
            act(),
            WeightNormConv2d(channels, channels, kernel),
        )

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        return h + self.body(h)


class RealNVPResNet(Layer):
    """Batch norm, ``act([h, -h])``, lift, residual blocks with a 1x1 skip connection from
    the lift and from each block (summed), batch norm, activation, zero-started 1x1 output."""

    def __init__(
        self,
        in_channels: int,
        channels: int,
        out_channels: int,
        blocks: int = 8,
        kernel: int = 3,
        activation: str = "relu",
    ) -> None:
        super().__init__()
        act = getattr(nn, ACTIVATIONS[activation])
        self.in_norm = nn.BatchNorm2d(in_channels)
        self.in_act = act()
        self.lift = WeightNormConv2d(2 * in_channels, channels, kernel)
        self.blocks = nn.ModuleList(_Block(channels, kernel, activation) for _ in range(blocks))
        self.skips = nn.ModuleList(
            WeightNormConv2d(channels, channels, 1) for _ in range(blocks + 1)
        )
        self.head = nn.Sequential(
            nn.BatchNorm2d(channels), act(), WeightNormConv2d(channels, out_channels, 1, zero=True)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.in_norm(x)
        h = self.lift(self.in_act(torch.cat([h, -h], dim=1)))
        skipped = self.skips[0](h)
        for block, skip in zip(self.blocks, self.skips[1:], strict=True):
            h = block(h)
            skipped = skipped + skip(h)
        return self.head(skipped)
