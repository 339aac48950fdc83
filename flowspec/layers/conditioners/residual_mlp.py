"""The residual MLP conditioner's torch module (spec:
:mod:`flowspec.conditioners.residual_mlp`)."""

from __future__ import annotations

import torch
from torch import nn

from flowspec.core.layer import Layer
from flowspec.layers.conditioners.mlp import ACTIVATIONS

__all__ = ["DenseResidualBlock", "ResidualMLP"]


class DenseResidualBlock(Layer):
    """``h + W2 drop(act(W1 act(h)))`` (pre-activation, as NSF's ``ResidualBlock``)."""

    def __init__(self, width: int, activation: str = "relu", dropout: float = 0.0) -> None:
        super().__init__()
        act = getattr(nn, ACTIVATIONS[activation])
        self.body = nn.Sequential(
            act(),
            nn.Linear(width, width),
            act(),
            *((nn.Dropout(dropout),) if dropout else ()),
            nn.Linear(width, width),
        )

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        return h + self.body(h)


class ResidualMLP(Layer, nn.Sequential):
    """Linear lift, ``blocks`` residual blocks, linear read-out (at zero with ``zero_init``)."""

    def __init__(
        self,
        in_features: int,
        width: int,
        out_features: int,
        blocks: int = 2,
        activation: str = "relu",
        dropout: float = 0.0,
        zero_init: bool = True,
    ) -> None:
        last = nn.Linear(width, out_features)
        if zero_init:
            nn.init.zeros_(last.weight)
            nn.init.zeros_(last.bias)
        super().__init__(
            nn.Linear(in_features, width),
            *(DenseResidualBlock(width, activation, dropout) for _ in range(blocks)),
            last,
        )
