"""The realnvp_moons architecture written by hand in plain torch: the reference that the
compiled model is measured against. Same maths as specs/realnvp_moons.yaml: 8 affine
couplings (MLP 1 -> 64 -> 64 -> 2, ReLU, zero-initialised output, log-scale soft-bounded by
2 tanh(s/2)), a feature reversal after each, standard normal base."""

from __future__ import annotations

import math

import torch
from torch import nn


class Coupling(nn.Module):
    def __init__(self, hidden: int = 64, bound: float = 2.0):
        super().__init__()
        self.net = nn.Sequential(
            nn.Linear(1, hidden), nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU(),
            nn.Linear(hidden, 2),
        )
        nn.init.zeros_(self.net[-1].weight)
        nn.init.zeros_(self.net[-1].bias)
        self.bound = bound

    def params(self, a: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        raw, shift = self.net(a).chunk(2, dim=1)
        return self.bound * torch.tanh(raw / self.bound), shift

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        a, b = x[:, :1], x[:, 1:]
        s, t = self.params(a)
        return torch.cat([a, b * torch.exp(s) + t], dim=1), s.sum(1)

    def inverse(self, z: torch.Tensor) -> torch.Tensor:
        a, b = z[:, :1], z[:, 1:]
        s, t = self.params(a)
        return torch.cat([a, (b - t) * torch.exp(-s)], dim=1)


class HandwrittenRealNVP(nn.Module):
    def __init__(self, layers: int = 8):
        super().__init__()
        self.couplings = nn.ModuleList(Coupling() for _ in range(layers))

    def log_prob(self, x: torch.Tensor) -> torch.Tensor:
        logdet = x.new_zeros(x.shape[0])
        for coupling in self.couplings:
            x, ld = coupling(x)
            logdet = logdet + ld
            x = x.flip(1)
        return logdet - 0.5 * x.pow(2).sum(1) - math.log(2 * math.pi)

    def sample(self, n: int) -> torch.Tensor:
        z = torch.randn(n, 2)
        for coupling in reversed(self.couplings):
            z = coupling.inverse(z.flip(1))
        return z
