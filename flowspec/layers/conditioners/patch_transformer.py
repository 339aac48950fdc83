"""Torch side of :mod:`flowspec.conditioners.patch_transformer` (TarFlow, arXiv:2412.06329)."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from flowspec.core.layer import Layer
from flowspec.layers.conditioners.causal_transformer import CausalBlock

__all__ = ["PatchTransformer"]


class PatchTransformer(Layer):
    """``x (batch, C, H, W) -> (batch, C, H, W, params)``: patches as tokens, causal blocks,
    a zero-initialised read-out shifted by one token."""

    def __init__(
        self,
        shape: list[int],
        patch: int,
        reverse: bool,
        dim: int,
        heads: int,
        layers: int,
        expansion: int,
        params: int,
    ) -> None:
        super().__init__()
        channels, height, width = shape
        self.shape = (channels, height, width)
        self.patch = patch
        self.reverse = reverse
        self.params = params
        values = channels * patch * patch
        self.lift = nn.Linear(values, dim)
        self.position = nn.Parameter(0.01 * torch.randn((height // patch) * (width // patch), dim))
        self.blocks = nn.ModuleList(CausalBlock(dim, heads, expansion) for _ in range(layers))
        self.out = nn.Linear(dim, values * params)
        nn.init.zeros_(self.out.weight)
        nn.init.zeros_(self.out.bias)

    def forward(self, x: torch.Tensor, context: torch.Tensor | None = None) -> torch.Tensor:
        p, (channels, height, width) = self.patch, self.shape
        tokens = F.unfold(x, p, stride=p).transpose(1, 2)  # (batch, T, C p^2)
        if self.reverse:
            tokens = tokens.flip(1)
        h = self.lift(tokens) + self.position
        for block in self.blocks:
            h = block(h)
        out = self.out(h)
        out = torch.cat([torch.zeros_like(out[:, :1]), out[:, :-1]], dim=1)
        if self.reverse:
            out = out.flip(1)
        # (batch, T, params * C p^2) -> (batch, params * C, H, W) -> (batch, C, H, W, params)
        image = F.fold(out.transpose(1, 2), (height, width), p, stride=p)
        return image.view(x.shape[0], self.params, channels, height, width).movedim(1, -1)
