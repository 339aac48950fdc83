"""Glow's convolutional conditioner's torch module (spec: :mod:`flowspec.conditioners.conv`)."""

from __future__ import annotations

from torch import nn

from flowspec.core.layer import Layer
from flowspec.layers.conditioners._image import zero_conv
from flowspec.layers.conditioners.mlp import ACTIVATIONS

__all__ = ["ConvNet"]


class ConvNet(Layer, nn.Sequential):
    """``kernel`` conv, activation, 1x1 conv, activation, zero-initialised ``kernel`` conv."""

    def __init__(
        self,
        in_channels: int,
        channels: int,
        out_channels: int,
        kernel: int = 3,
        activation: str = "relu",
    ) -> None:
        super().__init__(
            nn.Conv2d(in_channels, channels, kernel, padding=kernel // 2),
            getattr(nn, ACTIVATIONS[activation])(),
            nn.Conv2d(channels, channels, 1),
            getattr(nn, ACTIVATIONS[activation])(),
            zero_conv(channels, out_channels, kernel),
        )
