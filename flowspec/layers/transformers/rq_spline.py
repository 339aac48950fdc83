"""Torch side of :mod:`flowspec.transformers.rq_spline` (Durkan et al. 2019, arXiv:1906.04032).

Static shapes throughout: the bin of each value is the number of interior knots at or
below it (a comparison summed over the last axis, then ``gather``), values outside
``[-B, B]`` are clamped in and replaced by themselves with ``torch.where``, so
``torch.compile(fullgraph=True)`` captures forward and inverse as one graph each.
"""

from __future__ import annotations

import math

import torch
from torch.nn import functional as F

from flowspec.layers._softmax import softmax_last
from flowspec.layers.transformers.base import Transformer

__all__ = ["RQSplineTransformer"]


def _knots(raw: torch.Tensor, bound: float, minimum: float) -> torch.Tensor:
    """``bins + 1`` increasing knot positions from ``-bound`` to ``bound``, each bin at least
    ``minimum * 2 * bound`` wide; ``raw`` has ``bins`` entries on the last axis."""
    bins = raw.shape[-1]
    shares = softmax_last(raw)
    fractions = minimum + (1 - minimum * bins) * shares
    inner = 2 * bound * torch.cumsum(fractions, dim=-1)[..., :-1] - bound
    ends = torch.full_like(fractions[..., :1], bound)  # not inner's: empty for one bin
    return torch.cat([-ends, inner, ends], dim=-1)


def _pick(values: torch.Tensor, index: torch.Tensor) -> torch.Tensor:
    """``values[..., index]`` for one index per element."""
    return values.gather(-1, index.unsqueeze(-1)).squeeze(-1)


class RQSplineTransformer(Transformer):
    """Params per feature: ``bins`` widths, ``bins`` heights, ``bins - 1`` interior
    derivatives (unnormalised; zeros give the identity)."""

    def __init__(
        self,
        bins: int,
        bound: float,
        min_bin_width: float = 1e-3,
        min_bin_height: float = 1e-3,
        min_derivative: float = 1e-3,
    ) -> None:
        super().__init__()
        self.bins = bins
        self.bound = bound
        self.min_bin_width = min_bin_width
        self.min_bin_height = min_bin_height
        self.min_derivative = min_derivative
        # softplus(0 + shift) = 1 - min_derivative: zero parameters give unit derivatives.
        self.derivative_shift = math.log(math.expm1(1 - min_derivative))

    def _spline(self, params: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Knot abscissae, ordinates (each ``bins + 1``) and derivatives at the knots."""
        bins = self.bins
        # One split (its gradient is one cat) rather than three slices (three zero-filled
        # gradients of the whole params tensor, summed).
        widths, heights, slopes = params.split((bins, bins, bins - 1), dim=-1)
        xs = _knots(widths, self.bound, self.min_bin_width)
        ys = _knots(heights, self.bound, self.min_bin_height)
        inner = self.min_derivative + F.softplus(slopes + self.derivative_shift)
        ones = torch.ones_like(xs[..., :1])
        return xs, ys, torch.cat([ones, inner, ones], dim=-1)

    def _bin(
        self,
        value: torch.Tensor,
        knots: torch.Tensor,
        xs: torch.Tensor,
        ys: torch.Tensor,
        derivatives: torch.Tensor,
    ) -> tuple[torch.Tensor, ...]:
        """For each value: its bin's left knot, width, height, slope and end derivatives."""
        index = (value.unsqueeze(-1) >= knots[..., 1:-1]).sum(-1)
        x0, y0 = _pick(xs, index), _pick(ys, index)
        width, height = _pick(xs, index + 1) - x0, _pick(ys, index + 1) - y0
        d0, d1 = _pick(derivatives, index), _pick(derivatives, index + 1)
        return x0, y0, width, height, height / width, d0, d1

    def forward(self, x: torch.Tensor, params: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        xs, ys, derivatives = self._spline(params)
        inside = x.abs() <= self.bound
        clamped = x.clamp(-self.bound, self.bound)
        x0, y0, width, height, slope, d0, d1 = self._bin(clamped, xs, xs, ys, derivatives)
        xi = (clamped - x0) / width
        mixed = xi * (1 - xi)
        denominator = slope + (d0 + d1 - 2 * slope) * mixed
        z = y0 + height * (slope * xi**2 + d0 * mixed) / denominator
        numerator = d1 * xi**2 + 2 * slope * mixed + d0 * (1 - xi) ** 2
        log_derivative = 2 * torch.log(slope) + torch.log(numerator) - 2 * torch.log(denominator)
        return torch.where(inside, z, x), torch.where(inside, log_derivative, 0.0)

    def inverse(self, z: torch.Tensor, params: torch.Tensor) -> torch.Tensor:
        xs, ys, derivatives = self._spline(params)
        inside = z.abs() <= self.bound
        clamped = z.clamp(-self.bound, self.bound)
        x0, y0, width, height, slope, d0, d1 = self._bin(clamped, ys, xs, ys, derivatives)
        # xi solves a xi^2 + b xi + c = 0; the root in [0, 1], written without cancellation.
        offset = clamped - y0
        curvature = d0 + d1 - 2 * slope
        a = height * (slope - d0) + offset * curvature
        b = height * d0 - offset * curvature
        c = -slope * offset
        discriminant = (b**2 - 4 * a * c).clamp_min(0)
        xi = (2 * c) / (-b - torch.sqrt(discriminant))
        return torch.where(inside, x0 + xi * width, z)
