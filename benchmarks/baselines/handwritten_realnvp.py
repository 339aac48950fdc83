"""The realnvp_moons architecture written by hand in plain torch, the best way a person
would: the reference that the compiled model is measured against. Same density as
specs/realnvp_moons.yaml: 8 affine couplings (MLP 1 -> 64 -> 64 -> 2, ReLU,
zero-initialised output, log-scale soft-bounded by 2 tanh(s/2)) with a feature reversal
after each, standard normal base. With two features a reversal swaps the halves, so the
two halves are kept as separate tensors and swap roles from one coupling to the next: no
flip, no merge, one ``cat`` at the end for the base distribution."""

from __future__ import annotations

import math

import torch
from torch import nn


class Coupling(nn.Module):
    def __init__(self, hidden: int = 64, bound: float = 2.0):
        super().__init__()
        self.net = nn.Sequential(
            nn.Linear(1, hidden),
            nn.ReLU(),
            nn.Linear(hidden, hidden),
            nn.ReLU(),
            nn.Linear(hidden, 2),
        )
        nn.init.zeros_(self.net[-1].weight)
        nn.init.zeros_(self.net[-1].bias)
        self.bound = bound

    def params(self, a: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        raw, shift = self.net(a).chunk(2, dim=1)
        return self.bound * torch.tanh(raw / self.bound), shift

    def forward(self, a: torch.Tensor, b: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``b`` transformed, conditioned on ``a``; the log-determinant."""
        s, t = self.params(a)
        return b * torch.exp(s) + t, s.sum(1)

    def inverse(self, a: torch.Tensor, z_b: torch.Tensor) -> torch.Tensor:
        s, t = self.params(a)
        return (z_b - t) * torch.exp(-s)


class HandwrittenRealNVP(nn.Module):
    def __init__(self, layers: int = 8):
        super().__init__()
        self.couplings = nn.ModuleList(Coupling() for _ in range(layers))

    def log_prob(self, x: torch.Tensor) -> torch.Tensor:
        a, b = x[:, :1], x[:, 1:]
        logdet = x.new_zeros(x.shape[0])
        for coupling in self.couplings:
            z_b, ld = coupling(a, b)
            logdet = logdet + ld
            a, b = z_b, a  # reverse([a, z_b]) = [z_b, a]
        z = torch.cat([a, b], dim=1)
        return logdet - 0.5 * z.pow(2).sum(1) - math.log(2 * math.pi)

    def sample(self, n: int) -> torch.Tensor:
        z = torch.randn(n, 2)
        a, b = z[:, :1], z[:, 1:]
        for coupling in reversed(self.couplings):
            a, b = b, coupling.inverse(b, a)
        return torch.cat([a, b], dim=1)
