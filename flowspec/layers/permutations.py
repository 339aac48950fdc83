"""The torch modules of permutations (spec, shape rule and formulas:
:mod:`flowspec.nodes.permutations`)."""

from __future__ import annotations

import torch

from flowspec.core.layer import FlowLayer

__all__ = ["Reverse", "Permutation"]


class Reverse(FlowLayer):
    """``z = x`` with the features (tensor dim 1) in reverse order; its own inverse."""

    def forward(
        self, x: torch.Tensor, context: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        return x.flip(1), x.new_zeros(x.shape[0])

    def inverse(self, z: torch.Tensor, context: torch.Tensor | None = None) -> torch.Tensor:
        return z.flip(1)


class Permutation(FlowLayer):
    """``z[:, i] = x[:, order[i]]`` along tensor dim 1 (event axis 0); zero contribution."""

    index: torch.Tensor
    inverse_index: torch.Tensor

    def __init__(self, order: list[int], persistent: bool = True) -> None:
        super().__init__()
        index = torch.tensor(order, dtype=torch.long)
        self.register_buffer("index", index, persistent=persistent)
        self.register_buffer("inverse_index", torch.argsort(index), persistent=persistent)

    def forward(
        self, x: torch.Tensor, context: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        return x.index_select(1, self.index), x.new_zeros(x.shape[0])

    def inverse(self, z: torch.Tensor, context: torch.Tensor | None = None) -> torch.Tensor:
        return z.index_select(1, self.inverse_index)

    def extra_repr(self) -> str:
        return f"features={self.index.numel()}"
