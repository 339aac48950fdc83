"""The abs surjection's torch module (spec and maths: ``flowspec.nodes.abs``)."""

from __future__ import annotations

import math

import torch

from flowspec.core.layer import FlowLayer
from flowspec.layers.densities.base import Density

__all__ = ["Abs"]


class Abs(FlowLayer):
    """``z = |x|``, contribution ``log p(s | z)`` (a fair coin when ``classifier`` is None)."""

    def __init__(self, event_numel: int, classifier: Density | None = None) -> None:
        super().__init__()
        self.fair_log_prob = -event_numel * math.log(2.0)
        self.classifier = classifier

    def forward(
        self, x: torch.Tensor, context: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        z = x.abs()
        if self.classifier is None:
            return z, x.new_full((x.shape[0],), self.fair_log_prob)
        return z, self.classifier.log_prob((x >= 0).to(x.dtype), z)

    def inverse(self, z: torch.Tensor, context: torch.Tensor | None = None) -> torch.Tensor:
        if self.classifier is None:
            positive = torch.rand_like(z) < 0.5
        else:
            positive = self.classifier.sample(z) > 0.5
        return torch.where(positive, z, -z)
