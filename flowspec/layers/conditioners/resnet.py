"""The ResNet conditioner's torch module (spec: :mod:`flowspec.conditioners.resnet`)."""

from __future__ import annotations

import torch
from torch import nn

from flowspec.core.layer import Layer
from flowspec.layers.conditioners._image import zero_conv
from flowspec.layers.conditioners.mlp import ACTIVATIONS

__all__ = ["ResNet", "ResidualBlock"]


class ResidualBlock(Layer):
    """``h + conv(act(conv(act(h))))`` with 'same' padding; with ``batch_norm`` a batch
    normalisation before each activation."""

    def __init__(
        self, channels: int, kernel: int = 3, activation: str = "relu", batch_norm: bool = False
    ) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        for _ in range(2):
            if batch_norm:
                layers.append(nn.BatchNorm2d(channels))
            layers += [
                getattr(nn, ACTIVATIONS[activation])(),
                nn.Conv2d(channels, channels, kernel, padding=kernel // 2),
            ]
        self.body = nn.Sequential(*layers)

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        return h + self.body(h)


class ResNet(Layer, nn.Sequential):
    """Convolution in, ``blocks`` residual blocks, activation, zero-initialised conv out (the
    outer two of side ``outer_kernel``, by default ``kernel``)."""

    def __init__(
        self,
        in_channels: int,
        channels: int,
        out_channels: int,
        blocks: int = 2,
        kernel: int = 3,
        activation: str = "relu",
        batch_norm: bool = False,
        outer_kernel: int | None = None,
    ) -> None:
        ends = kernel if outer_kernel is None else outer_kernel
        super().__init__(
            nn.Conv2d(in_channels, channels, ends, padding=ends // 2),
            *(ResidualBlock(channels, kernel, activation, batch_norm) for _ in range(blocks)),
            getattr(nn, ACTIVATIONS[activation])(),
            zero_conv(channels, out_channels, ends),
        )
