"""The torch side of the convolutional conditioners' shared frame (spec:
:mod:`flowspec.conditioners._image`)."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from flowspec.core.layer import Layer

__all__ = ["ChannelAffine", "EdgeBiasConv2d", "ImageConditioner", "same_conv", "zero_conv"]


def zero_conv(in_channels: int, out_channels: int, kernel: int) -> nn.Conv2d:
    """A 'same'-padded convolution whose weight and bias start at zero."""
    conv = nn.Conv2d(in_channels, out_channels, kernel, padding=kernel // 2)
    assert conv.bias is not None  # built with a bias
    nn.init.zeros_(conv.weight)
    nn.init.zeros_(conv.bias)
    return conv


class ImageConditioner(Layer):
    """``(a, context) -> (batch, *changed, params)`` from a convolutional ``net``.

    A flat context ``(batch, K)`` is broadcast to ``K`` constant channels, an image context
    ``(batch, K, H, W)`` is taken as it is; with ``stack_context`` the context's channels are
    stacked onto ``a`` for the net, else the net is called as ``net(a, context)`` (None
    without one). The net's output channels are laid out parameter-major (``params`` blocks
    of ``C_b`` channels)."""

    def __init__(
        self, net: nn.Module, changed: list[int], params: int, stack_context: bool = True
    ) -> None:
        super().__init__()
        self.net = net
        self.changed = tuple(changed)
        self.params = params
        self.stack_context = stack_context

    def forward(self, a: torch.Tensor, context: torch.Tensor | None = None) -> torch.Tensor:
        if context is not None and context.dim() == 2:
            context = context[:, :, None, None].expand(-1, -1, *a.shape[2:])
        if not self.stack_context:
            out = self.net(a, context)
        elif context is not None:
            out = self.net(torch.cat([a, context], dim=1))
        else:
            out = self.net(a)
        return out.view(a.shape[0], self.params, *self.changed).movedim(1, -1)


class EdgeBiasConv2d(Layer):
    """A 'same'-padded convolution that also sees one channel marking the padding: 1
    where the kernel reads the zero border, 0 inside (openai/glow's ``add_edge_padding``),
    so a border pixel is told apart from a zero one. That channel is the same for every
    example, so its term is one small convolution of the border alone, added to the
    convolution of ``x``: the input is never copied into a wider tensor."""

    def __init__(self, in_channels: int, out_channels: int, kernel: int, bias: bool) -> None:
        super().__init__()
        self.pad = kernel // 2
        self.conv = nn.Conv2d(in_channels + 1, out_channels, kernel, bias=bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        p, weight = self.pad, self.conv.weight
        border = F.pad(x.new_zeros(1, 1, *x.shape[2:]), (p, p, p, p), value=1.0)
        edge = F.conv2d(border, weight[:, -1:])
        return F.conv2d(x, weight[:, :-1], self.conv.bias, padding=p) + edge


class ChannelAffine(Layer):
    """``(x + bias) * exp(factor * log_scale)`` per channel, starting at the identity: the
    actnorm after Glow's hidden convolutions (factor 1) and the learned scale of its
    zero-initialised output convolution (factor 3, openai/glow ``conv2d_zeros``)."""

    def __init__(self, channels: int, factor: float = 1.0) -> None:
        super().__init__()
        self.factor = factor
        self.bias = nn.Parameter(torch.zeros(channels, 1, 1))
        self.log_scale = nn.Parameter(torch.zeros(channels, 1, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return (x + self.bias) * torch.exp(self.factor * self.log_scale)


def same_conv(
    in_channels: int, out_channels: int, kernel: int, edge_bias: bool, bias: bool
) -> nn.Module:
    """A 'same'-padded convolution, seeing the padding channel when ``edge_bias`` (and
    the kernel reaches past the border)."""
    if edge_bias and kernel > 1:
        return EdgeBiasConv2d(in_channels, out_channels, kernel, bias)
    return nn.Conv2d(in_channels, out_channels, kernel, padding=kernel // 2, bias=bias)
