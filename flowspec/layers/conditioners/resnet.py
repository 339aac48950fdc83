"""The ResNet conditioner's torch module (spec: :mod:`flowspec.conditioners.resnet`)."""

from __future__ import annotations

import torch
from torch import nn

from flowspec.core.layer import Layer
from flowspec.layers.conditioners._image import zero_conv
from flowspec.layers.conditioners.mlp import ACTIVATIONS

__all__ = ["ResNet", "ResidualBlock"]


class ResidualBlock(Layer):
    """``h + conv(act(conv(act(h))))`` with 'same' padding."""

    def __init__(self, channels: int, kernel: int = 3, activation: str = "relu") -> None:
        super().__init__()
        self.body = nn.Sequential(
            getattr(nn, ACTIVATIONS[activation])(),
            nn.Conv2d(channels, channels, kernel, padding=kernel // 2),
            getattr(nn, ACTIVATIONS[activation])(),
            nn.Conv2d(channels, channels, kernel, padding=kernel // 2),
        )

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        return h + self.body(h)


class ResNet(Layer, nn.Sequential):
    """Convolution in, ``blocks`` residual blocks, activation, zero-initialised conv out."""

    def __init__(
        self,
        in_channels: int,
        channels: int,
        out_channels: int,
        blocks: int = 2,
        kernel: int = 3,
        activation: str = "relu",
    ) -> None:
        super().__init__(
            nn.Conv2d(in_channels, channels, kernel, padding=kernel // 2),
            *(ResidualBlock(channels, kernel, activation) for _ in range(blocks)),
            getattr(nn, ACTIVATIONS[activation])(),
            zero_conv(channels, out_channels, kernel),
        )
