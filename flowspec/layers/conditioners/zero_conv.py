"""The zero-initialised convolution conditioner's torch module (spec:
:mod:`flowspec.conditioners.zero_conv`)."""

from __future__ import annotations

from torch import nn

from flowspec.core.layer import Layer
from flowspec.layers.conditioners._image import ChannelAffine, same_conv

__all__ = ["ZeroConv"]


class ZeroConv(Layer, nn.Sequential):
    """``(conv(x) + b) * exp(3 s)`` per output channel, the weights, ``b`` and ``s``
    starting at zero (openai/glow ``conv2d_zeros``)."""

    def __init__(
        self, in_channels: int, out_channels: int, kernel: int = 3, edge_bias: bool = False
    ) -> None:
        conv = same_conv(in_channels, out_channels, kernel, edge_bias, bias=False)
        for weight in conv.parameters():
            nn.init.zeros_(weight)
        super().__init__(conv, ChannelAffine(out_channels, factor=3.0))
