"""Diagonal Gaussian ``N(v; mu(c), diag sigma(c)^2)`` (spec: ``flowspec.densities.gaussian``)."""

from __future__ import annotations

import math

import torch
from torch import nn
from torch.nn import functional as F

from flowspec.layers.densities.base import Density

__all__ = ["Gaussian", "LOG_SQRT_2PI"]

#: log sqrt(2 pi), the constant of every Gaussian log-density.
LOG_SQRT_2PI = 0.5 * math.log(2 * math.pi)


class Gaussian(Density):
    """``sigma = min_scale + softplus(raw + b)``, ``b`` such that zero raw gives sigma = 1."""

    def __init__(
        self, event_shape: tuple[int, ...], net: nn.Module | None, min_scale: float = 1e-3
    ) -> None:
        super().__init__(event_shape, 2 * math.prod(event_shape), net)
        self.min_scale = float(min_scale)
        self.scale_shift = math.log(math.expm1(1.0 - self.min_scale))

    def params(
        self, context: torch.Tensor | None, n: int | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Mean and standard deviation, each flat ``(batch, numel(event))``."""
        return self.split(self.raw(context, n))

    def split(self, raw: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Mean and standard deviation from the raw parameters ``(batch, 2 numel(event))``."""
        mean, raw_scale = raw.chunk(2, dim=1)
        return mean, self.min_scale + F.softplus(raw_scale + self.scale_shift)

    def log_prob(self, value: torch.Tensor, context: torch.Tensor | None = None) -> torch.Tensor:
        return self.log_prob_at(value, *self.params(context, value.shape[0]))

    def log_prob_at(
        self, value: torch.Tensor, mean: torch.Tensor, scale: torch.Tensor
    ) -> torch.Tensor:
        """``log N(value; mean, diag scale^2)`` for given parameters."""
        return _log_normal((value.flatten(1) - mean) / scale, scale)

    def sample(self, context: torch.Tensor | None = None, n: int | None = None) -> torch.Tensor:
        mean, scale = self.params(context, n)
        return self._event(mean + scale * torch.randn_like(mean))

    def sample_and_log_prob(
        self, context: torch.Tensor | None = None, n: int | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        return self.draw_at(*self.params(context, n))

    def draw_at(self, mean: torch.Tensor, scale: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """A draw ``v = mu + sigma * eps`` for given parameters and its log-density:
        gradients reach the parameters through the draw."""
        eps = torch.randn_like(mean)
        return self._event(mean + scale * eps), _log_normal(eps, scale)


def _log_normal(eps: torch.Tensor, scale: torch.Tensor) -> torch.Tensor:
    return (-0.5 * eps.pow(2) - torch.log(scale) - LOG_SQRT_2PI).sum(1)
