"""A conditional diagonal Gaussian density, shared by the slice decoder, the augment
encoder and the ``conditional_normal`` base distribution.

SurVAE flows (Nielsen et al. 2020, arXiv:2007.02731) model what a surjection drops, or
what an augmentation adds, with a conditional density; VFlow (Chen et al. 2020,
arXiv:2002.09741) uses the same kind of density as its augmentation encoder. Here it is

    p(v | c) = N(v; mu(c), diag sigma(c)^2)

with ``mu`` and the pre-activation of ``sigma`` both given by one conditioner network that
maps the flattened context to ``2 * numel(event)`` features. The scale is

    sigma = min_scale + softplus(raw + b),   b = log(exp(1 - min_scale) - 1),

so ``sigma >= min_scale`` always (no collapse to a point mass, no overflow as with
``exp``) and, because the network's last layer starts at zero, ``sigma = 1`` and ``mu = 0``
at initialisation: the density starts as N(0, I) whatever the context.

Example (the field of a kind that uses it)::

    decoder: {net: {kind: mlp, hidden: [64, 64]}, min_scale: 0.001}
"""

from __future__ import annotations

import math

import torch
from pydantic import BaseModel, ConfigDict, Field
from torch import nn
from torch.nn import functional as F

from flowspec.core.ports import numel
from flowspec.core.layer import Layer
from flowspec.nets.choice import NetChoice

__all__ = ["ConditionalNormalParams", "ConditionalDiagonalNormal", "LOG_SQRT_2PI"]

#: log sqrt(2 pi), the constant of every Gaussian log-density in flowspec.
LOG_SQRT_2PI = 0.5 * math.log(2 * math.pi)


class ConditionalNormalParams(BaseModel):
    """Settings of a conditional diagonal Gaussian N(mu(c), diag sigma(c)^2)."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    net: NetChoice = Field(
        default_factory=NetChoice,
        description="Network from the flattened context to the mean and scale of every "
        "element of the event (its last layer starts at zero: the density starts at N(0, I)).",
    )
    min_scale: float = Field(
        default=1e-3,
        gt=0.0,
        lt=1.0,
        description="Floor of the standard deviation: sigma = min_scale + softplus(.), "
        "so sigma never falls below it.",
    )

    def build_density(
        self, context_features: int, event_shape: tuple[int, ...]
    ) -> "ConditionalDiagonalNormal":
        net = self.net.build(context_features, 2 * numel(event_shape), zero_init=True)
        return ConditionalDiagonalNormal(event_shape, net, self.min_scale)


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
