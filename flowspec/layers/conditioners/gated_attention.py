"""Flow++'s gated convolution and attention network (spec and paper:
:mod:`flowspec.conditioners.gated_attention`)."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from flowspec.core.layer import Layer
from flowspec.layers.conditioners._image import zero_conv

__all__ = [
    "ChannelLayerNorm",
    "GatedAttentionBlock",
    "GatedAttentionNet",
    "GatedConv",
    "GatedSelfAttention",
]


def concat_elu(h: torch.Tensor) -> torch.Tensor:
    """``elu([h, -h])`` over the channels (twice as many channels out)."""
    return F.elu(torch.cat([h, -h], dim=1))


def gate(h: torch.Tensor) -> torch.Tensor:
    """``a * sigmoid(b)`` for the two halves ``a, b`` of the channels."""
    a, b = h.chunk(2, dim=1)
    return a * torch.sigmoid(b)


class ChannelLayerNorm(Layer, nn.LayerNorm):
    """Layer norm over the channels at each position of ``(batch, C, H, W)``."""

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        return super().forward(h.movedim(1, -1)).movedim(-1, 1)


class GatedConv(Layer):
    """``h + gate(nin(dropout(concat_elu(conv(concat_elu(h)) + nin(concat_elu(c))))))``
    (the context term when the net has a context)."""

    def __init__(self, channels: int, context: int, kernel: int, dropout: float) -> None:
        super().__init__()
        self.conv = nn.Conv2d(2 * channels, channels, kernel, padding=kernel // 2)
        self.context = nn.Conv2d(2 * context, channels, 1) if context else None
        self.dropout = nn.Dropout(dropout)
        self.out = nn.Conv2d(2 * channels, 2 * channels, 1)

    def forward(self, h: torch.Tensor, context: torch.Tensor | None) -> torch.Tensor:
        hidden = self.conv(concat_elu(h))
        if self.context is not None:
            assert context is not None, "built with a context"
            hidden = hidden + self.context(concat_elu(context))
        return h + gate(self.out(self.dropout(concat_elu(hidden))))


class GatedSelfAttention(Layer):
    """``h + gate(nin(dropout(attention(h + position embedding))))``: multi-head
    self-attention over every position, queries, keys and values from one 1x1 conv."""

    def __init__(self, channels: int, heads: int, dropout: float) -> None:
        super().__init__()
        self.heads = heads
        self.qkv = nn.Conv2d(channels, 3 * channels, 1)
        self.dropout = nn.Dropout(dropout)
        self.out = nn.Conv2d(channels, 2 * channels, 1)

    def forward(self, h: torch.Tensor, position: torch.Tensor) -> torch.Tensor:
        batch, channels, height, width = h.shape
        qkv = self.qkv(h + position).view(batch, 3, self.heads, channels // self.heads, -1)
        q, k, v = qkv.transpose(-1, -2).unbind(1)  # each (batch, heads, positions, dim)
        attended = F.scaled_dot_product_attention(q, k, v)
        merged = attended.transpose(-1, -2).reshape(batch, channels, height, width)
        return h + gate(self.out(self.dropout(merged)))


class GatedAttentionBlock(Layer):
    """Gated convolution, layer norm, gated self-attention, layer norm."""

    def __init__(
        self, channels: int, context: int, heads: int, kernel: int, dropout: float
    ) -> None:
        super().__init__()
        self.conv = GatedConv(channels, context, kernel, dropout)
        self.conv_norm = ChannelLayerNorm(channels)
        self.attention = GatedSelfAttention(channels, heads, dropout)
        self.attention_norm = ChannelLayerNorm(channels)

    def forward(
        self, h: torch.Tensor, context: torch.Tensor | None, position: torch.Tensor
    ) -> torch.Tensor:
        h = self.conv_norm(self.conv(h, context))
        out: torch.Tensor = self.attention_norm(self.attention(h, position))
        return out


class GatedAttentionNet(Layer):
    """Lift, ``blocks`` x (gated conv, layer norm, gated attention, layer norm), and a
    zero-initialised read-out convolution: ``(a, context) -> (batch, out_channels, H, W)``."""

    def __init__(
        self,
        kept: list[int],
        out_channels: int,
        context: int,
        channels: int,
        blocks: int,
        heads: int,
        kernel: int,
        dropout: float,
    ) -> None:
        super().__init__()
        in_channels, height, width = kept
        self.position = nn.Parameter(0.01 * torch.randn(1, channels, height, width))
        self.lift = nn.Conv2d(in_channels, channels, kernel, padding=kernel // 2)
        self.blocks = nn.ModuleList(
            GatedAttentionBlock(channels, context, heads, kernel, dropout) for _ in range(blocks)
        )
        self.read_out = zero_conv(channels, out_channels, kernel)

    def forward(self, a: torch.Tensor, context: torch.Tensor | None) -> torch.Tensor:
        h = self.lift(a)
        for block in self.blocks:
            h = block(h, context, self.position)
        out: torch.Tensor = self.read_out(h)
        return out
