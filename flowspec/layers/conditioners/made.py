"""Torch side of :mod:`flowspec.conditioners.made`."""

from __future__ import annotations

from itertools import pairwise
from typing import cast

import torch
from torch import nn
from torch.nn import functional as F

from flowspec.core.layer import Layer
from flowspec.layers.conditioners.mlp import ACTIVATIONS

__all__ = ["MADE", "made_masks"]


def made_masks(
    ranks: list[int], hidden: list[int], params: int, context: int
) -> list[torch.Tensor]:
    """The masks of every layer (``out x in``): a unit of degree ``d`` sees inputs of degree
    ``<= d``; an output of feature ``i`` sees hidden units of degree ``< rank(i) + 1``.
    Context inputs have degree 0, so they reach every hidden unit."""
    features = len(ranks)
    degrees = torch.tensor([r + 1 for r in ranks] + [0] * context)
    masks = []
    for width in hidden:
        # Hidden degrees cycle over 1 .. D-1 (over 0 alone for D = 1: context only).
        hidden_degrees = torch.arange(width) % max(features - 1, 1) + min(1, features - 1)
        masks.append((hidden_degrees[:, None] >= degrees[None, :]).float())
        degrees = hidden_degrees
    out_degrees = torch.tensor([r + 1 for r in ranks]).repeat(params)
    masks.append((out_degrees[:, None] > degrees[None, :]).float())
    return masks


class MADE(Layer):
    """Masked MLP from ``x`` (and a flat context) to ``(batch, *shape, params)``."""

    def __init__(
        self,
        shape: list[int],
        ranks: list[int],
        hidden: list[int],
        params: int,
        context: int,
        activation: str = "relu",
    ) -> None:
        super().__init__()
        self.shape = tuple(shape)
        self.params = params
        masks = made_masks(ranks, hidden, params, context)
        sizes = [len(ranks) + context, *hidden, len(ranks) * params]
        linears = [nn.Linear(i, o) for i, o in pairwise(sizes)]
        self.linears = nn.ModuleList(linears)
        for index, mask in enumerate(masks):
            self.register_buffer(f"mask{index}", mask, persistent=False)
        self.activation = getattr(nn, ACTIVATIONS[activation])()
        # The last layer starts at zero: the flow layer starts as the identity.
        nn.init.zeros_(linears[-1].weight)
        nn.init.zeros_(linears[-1].bias)

    def forward(self, x: torch.Tensor, context: torch.Tensor | None = None) -> torch.Tensor:
        h = x.flatten(1) if context is None else torch.cat([x.flatten(1), context], dim=1)
        last = len(self.linears) - 1
        for index, linear in enumerate(self.linears):
            linear = cast(nn.Linear, linear)
            h = F.linear(h, linear.weight * getattr(self, f"mask{index}"), linear.bias)
            if index < last:
                h = self.activation(h)
        return h.view(h.shape[0], self.params, *self.shape).movedim(1, -1)
