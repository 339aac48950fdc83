"""The torch modules of split (spec, shape rule and formulas:
:mod:`flowspec.nodes.split`)."""

from __future__ import annotations

import torch

from flowspec.core.layer import FlowLayer

__all__ = ["Split"]


class Split(FlowLayer):
    """Splits tensor dim 1 into parts of the given sizes; zero contribution."""

    def __init__(self, sizes: list[int]) -> None:
        super().__init__()
        self.sizes = list(sizes)

    def forward(
        self, x: torch.Tensor, context: torch.Tensor | None = None
    ) -> tuple[tuple[torch.Tensor, ...], torch.Tensor]:
        return tuple(x.split(self.sizes, dim=1)), x.new_zeros(x.shape[0])

    def inverse(self, *parts: torch.Tensor, context: torch.Tensor | None = None) -> torch.Tensor:
        return torch.cat(parts, dim=1)
