"""The sort surjection's torch module (spec and maths: ``flowspec.nodes.sort``)."""

from __future__ import annotations

import torch

from flowspec.core.layer import FlowLayer

__all__ = ["Sort"]


class Sort(FlowLayer):
    """Sorts rows by coordinate ``by``; contribution ``log(1/N!)``; inverse shuffles."""

    def __init__(self, by: int, log_prob: float) -> None:
        super().__init__()
        self.by = by
        self.log_prob = log_prob

    def _rows(self, x: torch.Tensor, order: torch.Tensor) -> torch.Tensor:
        index = order if x.dim() == 2 else order.unsqueeze(-1).expand_as(x)
        return x.gather(1, index)

    def forward(
        self, x: torch.Tensor, context: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        key = x if x.dim() == 2 else x[:, :, self.by]
        return self._rows(x, key.argsort(dim=1)), x.new_full((x.shape[0],), self.log_prob)

    def inverse(self, z: torch.Tensor, context: torch.Tensor | None = None) -> torch.Tensor:
        return self._rows(z, torch.rand(z.shape[:2], device=z.device).argsort(dim=1))
