"""The torch side of the convolutional conditioners' shared frame (spec:
:mod:`flowspec.conditioners._image`)."""

from __future__ import annotations

import torch
from torch import nn

from flowspec.core.layer import Layer

__all__ = ["ImageConditioner", "zero_conv"]


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
    ``(batch, K, H, W)`` is stacked as it is. The net's output channels are laid out
    parameter-major (``params`` blocks of ``C_b`` channels)."""

    def __init__(self, net: nn.Module, changed: list[int], params: int) -> None:
        super().__init__()
        self.net = net
        self.changed = tuple(changed)
        self.params = params

    def forward(self, a: torch.Tensor, context: torch.Tensor | None = None) -> torch.Tensor:
        if context is not None:
            if context.dim() == 2:
                context = context[:, :, None, None].expand(-1, -1, *a.shape[2:])
            a = torch.cat([a, context], dim=1)
        out = self.net(a)
        return out.view(a.shape[0], self.params, *self.changed).movedim(1, -1)
