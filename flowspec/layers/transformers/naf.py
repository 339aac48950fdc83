"""Torch side of :mod:`flowspec.transformers.naf` (Huang et al. 2018, arXiv:1804.00779)."""

from __future__ import annotations

import math

import torch
from torch.nn import functional as F

from flowspec.layers._softmax import log_softmax_last
from flowspec.layers.transformers._bisection import BisectionTransformer
from flowspec.layers.transformers._logistic import invert_mixture_logit, mixture_logit

__all__ = ["NAFTransformer"]

#: Smallest slope a_j of a sigmoid unit (keeps every layer strictly increasing).
MIN_SLOPE = 1e-3


class NAFTransformer(BisectionTransformer):
    """Params per feature: for each of ``layers`` layers, ``hidden`` slope, offset and
    weight logits. A unit ``sigmoid(a x + b)`` is the logistic CDF with location ``-b / a``
    and scale ``1 / a``."""

    offsets: torch.Tensor

    def __init__(self, hidden: int, layers: int, tolerance: float, iterations: int) -> None:
        super().__init__(tolerance, iterations)
        self.hidden = hidden
        self.layers = layers
        spread = torch.linspace(-1.0, 1.0, hidden) if hidden > 1 else torch.zeros(1)
        self.register_buffer("offsets", spread, persistent=False)
        # softplus(0 + shift) + MIN_SLOPE = 1: zero parameters give unit slopes.
        self.slope_shift = math.log(math.expm1(1 - MIN_SLOPE))

    def _layers(
        self, params: torch.Tensor
    ) -> list[tuple[torch.Tensor, torch.Tensor, torch.Tensor]]:
        """Each layer's mixture parameters: log-weights, locations, log-scales."""
        h = self.hidden
        result = []
        for chunk in params.split(3 * h, dim=-1):
            slope = MIN_SLOPE + F.softplus(chunk[..., :h] + self.slope_shift)
            offset = chunk[..., h : 2 * h] + self.offsets
            log_weights = log_softmax_last(chunk[..., 2 * h :])
            result.append((log_weights, -offset / slope, -torch.log(slope)))
        return result

    def forward(self, x: torch.Tensor, params: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        log_derivative = torch.zeros_like(x)
        for mixture in self._layers(params):
            x, layer_log_derivative = mixture_logit(x, *mixture)
            log_derivative = log_derivative + layer_log_derivative
        return x, log_derivative

    def inverse(self, z: torch.Tensor, params: torch.Tensor) -> torch.Tensor:
        x = z
        for mixture in reversed(self._layers(params)):
            x = invert_mixture_logit(x, *mixture, self.iterations)
        self.record_error(x, z, params)
        return x
