"""Torch side of :mod:`flowspec.conditioners.causal_transformer` (arXiv:1706.03762)."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from flowspec.core.layer import Layer
from flowspec.layers.conditioners._sequence import SequenceConditioner

__all__ = ["CausalTransformer", "CausalBlock"]


class CausalBlock(Layer):
    """Pre-norm causal self-attention then a GELU MLP ``expansion`` times wider, each with a
    residual connection."""

    def __init__(self, dim: int, heads: int, expansion: int = 2) -> None:
        super().__init__()
        self.heads = heads
        self.attention_norm = nn.LayerNorm(dim)
        self.qkv = nn.Linear(dim, 3 * dim)
        self.project = nn.Linear(dim, dim)
        self.mlp_norm = nn.LayerNorm(dim)
        self.mlp = nn.Sequential(
            nn.Linear(dim, expansion * dim), nn.GELU(), nn.Linear(expansion * dim, dim)
        )

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        batch, length, dim = h.shape
        q, k, v = self.qkv(self.attention_norm(h)).chunk(3, dim=-1)
        q, k, v = (t.view(batch, length, self.heads, -1).transpose(1, 2) for t in (q, k, v))
        attended = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        h = h + self.project(attended.transpose(1, 2).reshape(batch, length, dim))
        return h + self.mlp(self.mlp_norm(h))


class CausalTransformer(SequenceConditioner):
    """Token ``i`` carries ``x_{i-1}`` (a start token for ``i = 0``); attention is causal,
    so output ``i`` depends on ``x_<i`` only."""

    def __init__(
        self,
        shape: list[int],
        reverse: bool,
        dim: int,
        heads: int,
        layers: int,
        params: int,
        context: int,
    ) -> None:
        super().__init__(shape, reverse)
        features = math.prod(shape)
        self.embed = nn.Linear(1, dim)
        self.start = nn.Parameter(torch.zeros(dim))
        self.position = nn.Parameter(0.02 * torch.randn(features, dim))
        self.context = nn.Linear(context, dim) if context else None
        self.blocks = nn.ModuleList(CausalBlock(dim, heads) for _ in range(layers))
        self.norm = nn.LayerNorm(dim)
        self.out = nn.Linear(dim, params)
        nn.init.zeros_(self.out.weight)
        nn.init.zeros_(self.out.bias)

    def run(self, sequence: torch.Tensor, context: torch.Tensor | None) -> torch.Tensor:
        previous = self.embed(sequence[:, :-1, None])
        start = self.start.expand(sequence.shape[0], 1, -1)
        h = torch.cat([start, previous], dim=1) + self.position
        if self.context is not None and context is not None:
            h = h + self.context(context)[:, None, :]
        for block in self.blocks:
            h = block(h)
        return self.out(self.norm(h))
