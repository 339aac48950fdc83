"""The torch modules of concatenation (spec, shape rule and formulas:
:mod:`flowspec.nodes.concat`)."""

from __future__ import annotations

import torch

from flowspec.core.layer import FlowLayer

__all__ = ["Concat"]


class Concat(FlowLayer):
    """Joins its inputs along tensor dim 1 (and splits them back); zero contribution."""

    def __init__(self, sizes: list[int]) -> None:
        super().__init__()
        self.sizes = list(sizes)

    def forward(
        self, *inputs: torch.Tensor, context: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        return torch.cat(inputs, dim=1), inputs[0].new_zeros(inputs[0].shape[0])

    def inverse(
        self, z: torch.Tensor, context: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, ...]:
        return tuple(z.split(self.sizes, dim=1))
