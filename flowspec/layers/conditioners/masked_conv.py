"""Torch side of :mod:`flowspec.conditioners.masked_conv` (PixelCNN, arXiv:1601.06759)."""

from __future__ import annotations

from typing import cast

import torch
from torch import nn
from torch.nn import functional as F

from flowspec.core.layer import Layer
from flowspec.layers.conditioners.mlp import ACTIVATIONS

__all__ = ["MaskedConvNet", "pixel_mask"]


def pixel_mask(
    out_groups: torch.Tensor, in_groups: torch.Tensor, kernel: int, include_own: bool
) -> torch.Tensor:
    """The ``(out, in, k, k)`` mask: taps above the centre row or left of the centre see
    everything; the centre tap connects an output of group ``g`` to inputs of groups below
    ``g`` (mask A) or up to ``g`` (mask B, ``include_own``); the rest is zero."""
    mask = torch.zeros(len(out_groups), len(in_groups), kernel, kernel)
    centre = kernel // 2
    mask[:, :, :centre, :] = 1
    mask[:, :, centre, :centre] = 1
    if include_own:
        mask[:, :, centre, centre] = (in_groups[None, :] <= out_groups[:, None]).float()
    else:
        mask[:, :, centre, centre] = (in_groups[None, :] < out_groups[:, None]).float()
    return mask


class MaskedConvNet(Layer):
    """``(x, context) -> (batch, C, H, W, params)``, autoregressive in raster order."""

    def __init__(
        self,
        shape: list[int],
        hidden: int,
        layers: int,
        kernel: int,
        params: int,
        context: int,
        activation: str = "relu",
    ) -> None:
        super().__init__()
        channels = shape[0]
        self.params = params
        self.padding = kernel // 2
        input_groups = torch.arange(channels)
        hidden_groups = torch.arange(hidden) % channels
        output_groups = torch.arange(channels).repeat_interleave(params)  # channel-major
        self.convs = nn.ModuleList()
        masks = []
        fan_in, groups = channels, input_groups
        for index in range(layers):
            self.convs.append(nn.Conv2d(fan_in, hidden, kernel, padding=self.padding))
            masks.append(pixel_mask(hidden_groups, groups, kernel, include_own=index > 0))
            fan_in, groups = hidden, hidden_groups
        self.out = nn.Conv2d(hidden, channels * params, 1)
        masks.append(pixel_mask(output_groups, hidden_groups, 1, include_own=True))
        for index, mask in enumerate(masks):
            self.register_buffer(f"mask{index}", mask, persistent=False)
        self.context = nn.Linear(context, hidden) if context else None
        self.activation = getattr(nn, ACTIVATIONS[activation])()
        assert self.out.bias is not None  # built with a bias
        nn.init.zeros_(self.out.weight)
        nn.init.zeros_(self.out.bias)

    def forward(self, x: torch.Tensor, context: torch.Tensor | None = None) -> torch.Tensor:
        h = x
        for index, conv in enumerate(self.convs):
            conv = cast(nn.Conv2d, conv)
            h = F.conv2d(
                h, conv.weight * getattr(self, f"mask{index}"), conv.bias, padding=self.padding
            )
            if index == 0 and self.context is not None and context is not None:
                h = h + self.context(context)[:, :, None, None]
            h = self.activation(h)
        last = getattr(self, f"mask{len(self.convs)}")
        h = F.conv2d(h, self.out.weight * last, self.out.bias)
        batch, _, height, width = h.shape
        return h.view(batch, -1, self.params, height, width).permute(0, 1, 3, 4, 2)
