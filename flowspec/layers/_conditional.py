"""The conditional diagonal Gaussian density's torch module (spec and formulas:
:mod:`flowspec.nodes._conditional`)."""

from __future__ import annotations

import math

import torch
from torch import nn
from torch.nn import functional as F

from flowspec.core.layer import Layer
from flowspec.core.ports import numel

__all__ = ["ConditionalDiagonalNormal", "LOG_SQRT_2PI"]


#: log sqrt(2 pi), the constant of every Gaussian log-density in flowspec.
LOG_SQRT_2PI = 0.5 * math.log(2 * math.pi)


class ConditionalDiagonalNormal(Layer):
    """N(v; mu(c), diag sigma(c)^2) over an event of any shape, given a context of any shape.

    The event and the context are flattened internally; ``log_prob`` sums over the event.
    """

    def __init__(self, event_shape: tuple[int, ...], net: nn.Module, min_scale: float = 1e-3):
        super().__init__()
        if not 0.0 < min_scale < 1.0:
            raise ValueError(f"min_scale must lie in (0, 1), got {min_scale}")
        self.event_shape = tuple(event_shape)
        self.event_numel = numel(self.event_shape)
        self.min_scale = float(min_scale)
        # Chosen so that a zero network output gives sigma = 1 exactly.
        self.scale_shift = math.log(math.expm1(1.0 - self.min_scale))
        self.net = net  # flat context -> 2 * numel(event): mean and raw scale

    def params(self, context: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Mean and standard deviation, each flat ``(batch, numel(event))``."""
        raw = self.net(context.flatten(1))
        mean, raw_scale = raw.chunk(2, dim=1)
        scale = self.min_scale + F.softplus(raw_scale + self.scale_shift)
        return mean, scale

    def log_prob(self, value: torch.Tensor, context: torch.Tensor) -> torch.Tensor:
        """log p(value | context), shape ``(batch,)``."""
        mean, scale = self.params(context)
        eps = (value.flatten(1) - mean) / scale
        return (-0.5 * eps.pow(2) - torch.log(scale) - LOG_SQRT_2PI).sum(1)

    def sample(self, context: torch.Tensor) -> torch.Tensor:
        """One draw per context row, shape ``(batch, *event)``."""
        mean, scale = self.params(context)
        value = mean + scale * torch.randn_like(mean)
        return value.reshape(value.shape[0], *self.event_shape)

    def sample_and_log_prob(self, context: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """A reparameterised draw ``v = mu + sigma * eps`` and its ``log p(v | context)``;
        gradients flow to the network through both."""
        mean, scale = self.params(context)
        eps = torch.randn_like(mean)
        value = mean + scale * eps
        log_prob = (-0.5 * eps.pow(2) - torch.log(scale) - LOG_SQRT_2PI).sum(1)
        return value.reshape(value.shape[0], *self.event_shape), log_prob
