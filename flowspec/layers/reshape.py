"""The torch modules of reshape and flatten (spec, shape rule and formulas:
:mod:`flowspec.nodes.reshape`)."""

from __future__ import annotations

import torch

from flowspec.core.layer import FlowLayer

__all__ = ["Reshape"]


class Reshape(FlowLayer):
    """Reshapes each sample's event from ``in_shape`` to ``out_shape``; zero contribution."""

    def __init__(self, in_shape: tuple[int, ...], out_shape: tuple[int, ...]) -> None:
        super().__init__()
        self.in_shape = tuple(in_shape)
        self.out_shape = tuple(out_shape)

    def forward(
        self, x: torch.Tensor, context: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        return x.reshape(x.shape[0], *self.out_shape), x.new_zeros(x.shape[0])

    def inverse(self, z: torch.Tensor, context: torch.Tensor | None = None) -> torch.Tensor:
        return z.reshape(z.shape[0], *self.in_shape)
