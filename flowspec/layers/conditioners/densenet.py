"""The DenseNet conditioner's torch module (spec: :mod:`flowspec.conditioners.densenet`)."""

from __future__ import annotations

import torch
from torch import nn

from flowspec.core.layer import Layer
from flowspec.layers.conditioners._image import zero_conv
from flowspec.layers.conditioners.mlp import ACTIVATIONS

__all__ = ["DenseBlock", "DenseLayer", "DenseNet", "GatedConv2d", "ResidualDenseBlock"]


class DenseLayer(Layer):
    """``[h, act(conv_k(drop(act(conv_1x1(h)))))]``: ``growth`` new maps stacked on ``h``."""

    def __init__(
        self, width: int, growth: int, kernel: int, activation: str, dropout: float
    ) -> None:
        super().__init__()
        act = getattr(nn, ACTIVATIONS[activation])
        self.body = nn.Sequential(
            nn.Conv2d(width, width, 1),
            act(),
            *([nn.Dropout(dropout)] if dropout else []),
            nn.Conv2d(width, growth, kernel, padding=kernel // 2),
            act(),
        )

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        return torch.cat([h, self.body(h)], dim=1)


class DenseBlock(Layer, nn.Sequential):
    """Dense layers, each adding its ``growths`` entry's maps to all the maps before it."""

    def __init__(
        self,
        width: int,
        growths: list[int],
        kernel: int,
        activation: str,
        dropout: float,
    ) -> None:
        layers = []
        for growth in growths:
            layers.append(DenseLayer(width, growth, kernel, activation, dropout))
            width += growth
        super().__init__(*layers)


class GatedConv2d(Layer):
    """``a + b * sigmoid(c)`` of three 1x1 convolutions computed as one."""

    def __init__(self, in_channels: int, out_channels: int) -> None:
        super().__init__()
        self.conv = nn.Conv2d(in_channels, 3 * out_channels, 1)

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        a, b, c = self.conv(h).chunk(3, dim=1)
        return a + b * torch.sigmoid(c)


class ResidualDenseBlock(Layer):
    """``h + t(dense(h))``, the transition ``t`` a (gated) 1x1 convolution from the
    ``grown`` maps of the dense block back to the ``width`` of ``h``."""

    def __init__(self, dense: DenseBlock, width: int, grown: int, gated: bool) -> None:
        super().__init__()
        self.dense = dense
        self.transition = GatedConv2d(grown, width) if gated else nn.Conv2d(grown, width, 1)

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        return h + self.transition(self.dense(h))


class DenseNet(Layer, nn.Sequential):
    """Without ``width``, one dense block on the input (IDF); with it, a 1x1 convolution to
    ``width`` maps and ``blocks`` residual dense blocks (SurVAE). Then a zero-initialised
    ``out_kernel`` convolution to ``out_channels``."""

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        growths: list[int],
        *,
        width: int | None,
        blocks: int,
        kernel: int,
        out_kernel: int,
        activation: str,
        dropout: float,
        gated: bool,
    ) -> None:
        if width is None:
            body: list[nn.Module] = [DenseBlock(in_channels, growths, kernel, activation, dropout)]
            last = in_channels + sum(growths)
        else:
            body = [nn.Conv2d(in_channels, width, 1)]
            grown = width + sum(growths)
            body += [
                ResidualDenseBlock(
                    DenseBlock(width, growths, kernel, activation, dropout), width, grown, gated
                )
                for _ in range(blocks)
            ]
            last = width
        super().__init__(*body, zero_conv(last, out_channels, out_kernel))
