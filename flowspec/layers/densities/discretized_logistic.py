"""Discretized logistic mixture over integers (spec: ``flowspec.densities.discretized_logistic``)."""

from __future__ import annotations

import math

import torch
from torch import nn
from torch.nn import functional as F

from flowspec.layers._softmax import log_softmax_last
from flowspec.layers.densities.base import Density

__all__ = ["DiscretizedLogistic", "log_bin_mass"]


def log_bin_mass(
    value: torch.Tensor, mean: torch.Tensor, log_scale: torch.Tensor, levels: int | None
) -> torch.Tensor:
    """``log P(bin of value)`` of a logistic(mean, exp(log_scale)), bins ``[v - 1/2, v + 1/2]``;
    with ``levels`` the first and last bins extend to -inf and +inf.

    Uses ``sigmoid(a) - sigmoid(b) = sigmoid(a) sigmoid(-b) (1 - exp(b - a))``, stable in
    the tails. Differentiable in ``value`` (for straight-through integer flows)."""
    inv_scale = torch.exp(-log_scale)
    upper = (value + 0.5 - mean) * inv_scale
    lower = (value - 0.5 - mean) * inv_scale
    if levels is not None:
        upper = torch.where(value >= levels - 1, torch.full_like(upper, math.inf), upper)
        lower = torch.where(value <= 0, torch.full_like(lower, -math.inf), lower)
    gap = torch.where(
        torch.isinf(upper) | torch.isinf(lower), torch.full_like(upper, -math.inf), -inv_scale
    )
    return F.logsigmoid(upper) + F.logsigmoid(-lower) + torch.log(-torch.expm1(gap))


class DiscretizedLogistic(Density):
    """A mixture of ``mixtures`` discretized logistics per element. The means start at the
    middle of ``0..K-1`` (0 for unbounded integers) with scale ``K / 8`` (1); an anchored
    density (:meth:`anchor`, the base over all integers) adds a per-element offset of its
    unconstrained parameters, set from data by :meth:`centre_at`."""

    offsets: torch.Tensor
    anchor_shift: torch.Tensor | None

    def __init__(
        self,
        event_shape: tuple[int, ...],
        mixtures: int,
        levels: int | None,
        net: nn.Module | None,
    ) -> None:
        super().__init__(event_shape, 3 * mixtures * math.prod(event_shape), net)
        self.mixtures = mixtures
        self.levels = levels
        centre = 0.0 if levels is None else (levels - 1) / 2
        self.log_scale0 = 0.0 if levels is None else math.log(max(levels / 8, 0.5))
        # Components start spread around the centre so that they can specialise.
        spread = torch.linspace(-1.0, 1.0, mixtures) if mixtures > 1 else torch.zeros(1)
        offsets = centre + 2 * math.exp(self.log_scale0) * spread
        self.register_buffer("offsets", offsets, persistent=False)
        self.register_buffer("anchor_shift", None)

    def anchor(self) -> None:
        """Give the unconstrained parameters a per-element offset (a saved buffer, zero
        until :meth:`centre_at` sets it), added to the learned vector or the network's
        output alike."""
        self.register_buffer("anchor_shift", torch.zeros(3 * self.mixtures * self.event_numel))

    def centre_at(self, mean: torch.Tensor, std: torch.Tensor | None) -> None:
        """Start each element's components at its values' ``mean``, spread over ``± std``,
        each with the logistic scale ``sqrt(3)/pi * std / mixtures`` (the logistic of that
        std, shared out; at least 0.2 so that a constant element keeps most of its mass on
        its value), equal weights: the data's marginal rather than 0 with scale 1, which
        the means would leave at about the learning rate per step."""
        assert self.anchor_shift is not None, "centre_at needs an anchored density"
        spread = std if std is not None else torch.zeros_like(mean)
        steps = torch.linspace(-1.0, 1.0, self.mixtures) if self.mixtures > 1 else torch.zeros(1)
        means = mean[:, None] + spread[:, None] * steps
        scale = (spread * math.sqrt(3) / math.pi / self.mixtures).clamp(min=0.2)
        shift = torch.stack(
            [
                torch.zeros_like(means),
                means - self.offsets,
                (scale.log() - self.log_scale0)[:, None].expand_as(means),
            ],
            dim=1,
        )
        self.anchor_shift.copy_(shift.flatten())

    def params(
        self, context: torch.Tensor | None, n: int | None = None
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Log mixture weights, means and log scales, each ``(batch, numel(event), M)``."""
        raw = self.raw(context, n)
        if self.anchor_shift is not None:
            raw = raw + self.anchor_shift
        raw = raw.reshape(raw.shape[0], self.event_numel, 3, self.mixtures)
        log_weights = log_softmax_last(raw[:, :, 0])
        mean = raw[:, :, 1] + self.offsets
        log_scale = (raw[:, :, 2] + self.log_scale0).clamp(min=-7.0)
        return log_weights, mean, log_scale

    def log_prob(self, value: torch.Tensor, context: torch.Tensor | None = None) -> torch.Tensor:
        log_weights, mean, log_scale = self.params(context, value.shape[0])
        mass = log_bin_mass(value.flatten(1).unsqueeze(-1), mean, log_scale, self.levels)
        return torch.logsumexp(log_weights + mass, -1).sum(1)

    def sample(self, context: torch.Tensor | None = None, n: int | None = None) -> torch.Tensor:
        log_weights, mean, log_scale = self.params(context, n)
        gumbel = -torch.log(-torch.log(torch.rand_like(log_weights).clamp(1e-20, 1.0)))
        pick = (log_weights + gumbel).argmax(-1, keepdim=True)
        u = torch.rand_like(mean[..., :1]).clamp(1e-6, 1 - 1e-6)
        chosen_mean = mean.gather(-1, pick)
        chosen_scale = torch.exp(log_scale.gather(-1, pick))
        value = torch.round(chosen_mean + chosen_scale * (torch.log(u) - torch.log1p(-u)))
        if self.levels is not None:
            value = value.clamp(0, self.levels - 1)
        return self._event(value.squeeze(-1))
