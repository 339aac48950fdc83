"""FFJORD's convolutional vector field (spec: :mod:`flowspec.nodes._vector_field`)."""

from __future__ import annotations

from itertools import pairwise
from typing import cast

import torch
from torch import nn

from flowspec.core.layer import Layer
from flowspec.layers.conditioners.mlp import ACTIVATIONS

__all__ = ["ConcatConvField"]


class ConcatConvField(Layer):
    """``f(t, y)`` on images: convolutions ('same' padding) each fed ``[t, h]``, the time
    broadcast as one channel (Grathwohl et al. 2019, arXiv:1810.01367), the activation
    between them, the last convolution starting at zero. Given a flat context ``c``
    (``context_features``), a linear map of it is added to the first convolution's output
    channels, broadcast over the pixels (as ``c`` broadcast as extra input channels through
    a 1x1 convolution would be)."""

    def __init__(
        self,
        channels: int,
        hidden: list[int],
        kernel: int,
        activation: str,
        context_features: int = 0,
    ) -> None:
        super().__init__()
        first = (hidden or [channels])[0]
        self.context_map = (
            nn.Linear(context_features, first, bias=False) if context_features else None
        )
        widths = [channels, *hidden, channels]
        convs = [nn.Conv2d(a + 1, b, kernel, padding=kernel // 2) for a, b in pairwise(widths)]
        last = convs[-1]
        nn.init.zeros_(last.weight)
        nn.init.zeros_(cast(torch.Tensor, last.bias))
        self.convs = nn.ModuleList(convs)
        self.activation = getattr(nn, ACTIVATIONS[activation])()

    def forward(
        self, t: torch.Tensor, y: torch.Tensor, context: torch.Tensor | None = None
    ) -> torch.Tensor:
        time = t.to(y).expand(y.shape[0], 1, *y.shape[2:])
        h = y
        for index, conv in enumerate(self.convs):
            if index:
                h = self.activation(h)
            h = conv(torch.cat([time, h], dim=1))
            if index == 0 and context is not None:
                assert self.context_map is not None, "built without context_features"
                h = h + self.context_map(context)[:, :, None, None]
        return h
