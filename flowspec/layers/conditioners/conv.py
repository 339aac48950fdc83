"""Glow's convolutional conditioner's torch module (spec: :mod:`flowspec.conditioners.conv`)."""

from __future__ import annotations

from torch import nn

from flowspec.core.layer import Layer
from flowspec.layers.conditioners._image import ChannelAffine, same_conv
from flowspec.layers.conditioners.mlp import ACTIVATIONS
from flowspec.layers.conditioners.zero_conv import ZeroConv

__all__ = ["ConvNet"]


class ConvNet(Layer, nn.Sequential):
    """``kernel`` conv, activation, 1x1 conv, activation, zero-initialised ``kernel`` conv.

    ``actnorm``: every convolution has no bias but a :class:`ChannelAffine` after it (the
    output's with Glow's factor 3 on its log-scale); ``edge_bias``: the ``kernel``
    convolutions see the padding channel (:class:`EdgeBiasConv2d`). Both as in Glow's code."""

    def __init__(
        self,
        in_channels: int,
        channels: int,
        out_channels: int,
        kernel: int = 3,
        activation: str = "relu",
        actnorm: bool = False,
        edge_bias: bool = False,
    ) -> None:
        act = getattr(nn, ACTIVATIONS[activation])
        first = same_conv(in_channels, channels, kernel, edge_bias, bias=not actnorm)
        hidden = nn.Conv2d(channels, channels, 1, bias=not actnorm)
        last: nn.Module = ZeroConv(channels, out_channels, kernel, edge_bias)
        if not actnorm:
            last = same_conv(channels, out_channels, kernel, edge_bias, bias=True)
            for weight in last.parameters():
                nn.init.zeros_(weight)
        norm = (lambda: ChannelAffine(channels)) if actnorm else nn.Identity
        super().__init__(first, norm(), act(), hidden, norm(), act(), last)
