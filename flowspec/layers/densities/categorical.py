"""Categorical per element over ``0..K-1`` (spec: ``flowspec.densities.categorical``)."""

from __future__ import annotations

import math

import torch
from torch import nn

from flowspec.layers.densities.base import Density

__all__ = ["Categorical"]


class Categorical(Density):
    """``p(v = k | c) = softmax(l(c))_k`` independently per element; values are stored as
    integer-valued floats."""

    def __init__(self, event_shape: tuple[int, ...], levels: int, net: nn.Module | None) -> None:
        super().__init__(event_shape, math.prod(event_shape) * levels, net)
        self.levels = levels

    def params(self, context: torch.Tensor | None, n: int | None = None) -> torch.Tensor:
        """Normalised log-probabilities, ``(batch, numel(event), K)``."""
        raw = self.raw(context, n)
        # torch's own kernel, not flowspec.layers._softmax: behind this reshape, AOT autograd
        # (torch.compile) builds a backward that views the leading-axis version's permuted
        # gradient, which fails (torch 2.13).
        return torch.log_softmax(raw.reshape(raw.shape[0], self.event_numel, self.levels), -1)

    def log_prob(self, value: torch.Tensor, context: torch.Tensor | None = None) -> torch.Tensor:
        log_p = self.params(context, value.shape[0])
        flat = value.flatten(1)
        index = flat.detach().long().clamp(0, self.levels - 1).unsqueeze(-1)
        here = log_p.gather(-1, index).squeeze(-1)
        # Zero in value; carries d log p / d value as the difference to the next level
        # (cyclically), the straight-through gradient discrete flows train by.
        step = flat - flat.detach()
        after = log_p.gather(-1, torch.remainder(index + 1, self.levels)).squeeze(-1)
        return (here + step * (after - here)).sum(1)

    def sample(self, context: torch.Tensor | None = None, n: int | None = None) -> torch.Tensor:
        log_p = self.params(context, n)
        # Gumbel-max: argmax(log p + Gumbel) is a draw from the categorical.
        gumbel = -torch.log(-torch.log(torch.rand_like(log_p).clamp(1e-20, 1.0)))
        return self._event((log_p + gumbel).argmax(-1).to(log_p.dtype))
