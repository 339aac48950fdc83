"""Bernoulli per element (spec: ``flowspec.densities.bernoulli``)."""

from __future__ import annotations

import math

import torch
from torch import nn
from torch.nn import functional as F

from flowspec.layers.densities.base import Density

__all__ = ["Bernoulli"]


class Bernoulli(Density):
    """``p(v = 1 | c) = sigmoid(l(c))`` independently per element."""

    def __init__(self, event_shape: tuple[int, ...], net: nn.Module | None) -> None:
        super().__init__(event_shape, math.prod(event_shape), net)

    def params(self, context: torch.Tensor | None, n: int | None = None) -> torch.Tensor:
        """The logits, flat ``(batch, numel(event))``."""
        return self.raw(context, n)

    def log_prob(self, value: torch.Tensor, context: torch.Tensor | None = None) -> torch.Tensor:
        logits = self.params(context, value.shape[0])
        target = value.flatten(1).to(logits.dtype)
        return -F.binary_cross_entropy_with_logits(logits, target, reduction="none").sum(1)

    def sample(self, context: torch.Tensor | None = None, n: int | None = None) -> torch.Tensor:
        return self._event(torch.bernoulli(torch.sigmoid(self.params(context, n))))
