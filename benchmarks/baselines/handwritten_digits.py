"""The digits_dequant architecture written by hand in plain torch: the reference that the
compiled specs/digits_dequant.yaml is measured against, and the preprocessing the peer
libraries get in front of their own flows.

Same maths as the spec: uniform dequantization of the 17 grey levels, ``z = (x + u) / 17``
(``u`` clamped away from 0 and 1 as flowspec does, contribution ``-64 log 17``), then
``logit(0.05 + 0.9 z)``, then 6 x [actnorm (data-dependent init), affine coupling (first 32
features kept; MLP 32 -> 256 -> 256 -> 64, ReLU, zero-initialised output; log-scale
``2 tanh(s / 2)``), fixed random permutation], then a standard normal. ``log_prob`` is the
one-draw dequantization lower bound on ``log P(x)`` in nats.
"""

from __future__ import annotations

import math

import torch
from torch import nn
from torch.nn import functional as F

__all__ = [
    "LEVELS",
    "FEATURES",
    "ALPHA",
    "Preprocessing",
    "permutation_order",
    "HandwrittenDigits",
]

LEVELS = 17
FEATURES = 64
ALPHA = 0.05


def permutation_order(features: int, seed: int) -> torch.Tensor:
    """A fixed random order of ``features`` drawn from ``seed`` (``torch.randperm``)."""
    return torch.randperm(features, generator=torch.Generator().manual_seed(seed))


class Preprocessing(nn.Module):
    """Integers ``0..K-1`` -> real line: dequantize with uniform noise, squeeze into
    ``[alpha, 1 - alpha]`` and take the logit. ``forward`` returns the real values and the
    log-determinant per sample (including ``-D log K``); ``inverse`` goes back to integers."""

    def __init__(self, levels: int = LEVELS, alpha: float = ALPHA):
        super().__init__()
        self.levels = levels
        self.alpha = alpha

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        margin = max(1e-6, 4 * self.levels * torch.finfo(x.dtype).eps)
        noise = torch.rand_like(x).clamp(margin, 1.0 - margin)
        squeezed = self.alpha + (1.0 - 2.0 * self.alpha) * (x + noise) / self.levels
        z = torch.logit(squeezed)
        # d logit(s)/ds = 1 / (s (1 - s)), and log s = -softplus(-z), log(1 - s) = -softplus(z)
        per_element = math.log(1.0 - 2.0 * self.alpha) + F.softplus(-z) + F.softplus(z)
        log_det = per_element.sum(1) - x.shape[1] * math.log(self.levels)
        return z, log_det

    def inverse(self, z: torch.Tensor) -> torch.Tensor:
        unit = (torch.sigmoid(z) - self.alpha) / (1.0 - 2.0 * self.alpha)
        return torch.floor(unit * self.levels).clamp(0, self.levels - 1)


class ActNorm(nn.Module):
    """``z = (x + bias) * exp(log_scale)``; the first batch sets zero mean, unit variance."""

    def __init__(self, features: int):
        super().__init__()
        self.bias = nn.Parameter(torch.zeros(features))
        self.log_scale = nn.Parameter(torch.zeros(features))
        self.ready = False

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        if not self.ready:
            with torch.no_grad():
                self.bias.copy_(-x.mean(0))
                self.log_scale.copy_(-torch.log(x.std(0, correction=0) + 1e-6))
            self.ready = True
        z = (x + self.bias) * torch.exp(self.log_scale)
        return z, self.log_scale.sum().expand(x.shape[0])

    def inverse(self, z: torch.Tensor) -> torch.Tensor:
        return z * torch.exp(-self.log_scale) - self.bias


class Coupling(nn.Module):
    """Affine coupling: the first half conditions a scale and shift of the second half."""

    def __init__(self, features: int, hidden: int = 256, bound: float = 2.0):
        super().__init__()
        self.keep = features // 2
        change = features - self.keep
        self.net = nn.Sequential(
            nn.Linear(self.keep, hidden),
            nn.ReLU(),
            nn.Linear(hidden, hidden),
            nn.ReLU(),
            nn.Linear(hidden, 2 * change),
        )
        nn.init.zeros_(self.net[-1].weight)
        nn.init.zeros_(self.net[-1].bias)
        self.bound = bound

    def params(self, a: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        raw, shift = self.net(a).chunk(2, dim=1)
        return self.bound * torch.tanh(raw / self.bound), shift

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        a, b = x[:, : self.keep], x[:, self.keep :]
        s, t = self.params(a)
        return torch.cat([a, b * torch.exp(s) + t], dim=1), s.sum(1)

    def inverse(self, z: torch.Tensor) -> torch.Tensor:
        a, b = z[:, : self.keep], z[:, self.keep :]
        s, t = self.params(a)
        return torch.cat([a, (b - t) * torch.exp(-s)], dim=1)


class HandwrittenDigits(nn.Module):
    """The full model. ``seeds`` are the permutation seeds of the steps; flowspec gives
    repetition r of a block the seed ``seed + r`` (here 0, 1, ..., steps - 1)."""

    def __init__(self, steps: int = 6, seeds: tuple[int, ...] | None = None):
        super().__init__()
        seeds = seeds if seeds is not None else tuple(range(steps))
        self.pre = Preprocessing()
        self.norms = nn.ModuleList(ActNorm(FEATURES) for _ in range(steps))
        self.couplings = nn.ModuleList(Coupling(FEATURES) for _ in range(steps))
        for k, seed in enumerate(seeds):
            order = permutation_order(FEATURES, seed)
            self.register_buffer(f"order_{k}", order)
            self.register_buffer(f"unorder_{k}", torch.argsort(order))
        self.steps = steps

    def log_prob(self, x: torch.Tensor) -> torch.Tensor:
        z, total = self.pre(x)
        for k in range(self.steps):
            z, norm_ld = self.norms[k](z)
            z, coupling_ld = self.couplings[k](z)
            z = z.index_select(1, getattr(self, f"order_{k}"))
            total = total + norm_ld + coupling_ld
        return total - 0.5 * z.pow(2).sum(1) - 0.5 * FEATURES * math.log(2 * math.pi)

    def sample(self, n: int) -> torch.Tensor:
        z = torch.randn(n, FEATURES)
        for k in reversed(range(self.steps)):
            z = z.index_select(1, getattr(self, f"unorder_{k}"))
            z = self.norms[k].inverse(self.couplings[k].inverse(z))
        return self.pre.inverse(z)
