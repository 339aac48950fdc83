"""The radial flow's torch module (spec and maths: :mod:`flowspec.nodes.radial`)."""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from flowspec.core.layer import FlowLayer

__all__ = ["Radial"]


class Radial(FlowLayer):
    """Generation ``x = z0 + (z - z0) (alpha + beta + r) / (alpha + r)``; inference solves
    the radius in closed form."""

    def __init__(self, features: int) -> None:
        super().__init__()
        self.features = features
        self.z0 = nn.Parameter(torch.randn(features) / features**0.5)
        self.alpha_raw = nn.Parameter(torch.zeros(()))
        self.beta_raw = nn.Parameter(torch.zeros(()))

    def _alpha_beta(self) -> tuple[torch.Tensor, torch.Tensor]:
        alpha = F.softplus(self.alpha_raw)
        return alpha, -alpha + F.softplus(self.beta_raw)

    def _contribution(
        self, alpha: torch.Tensor, beta: torch.Tensor, r: torch.Tensor
    ) -> torch.Tensor:
        """Inference ``log|det dz/dx|`` at the point whose latent radius is ``r``."""
        h = 1 / (alpha + r)
        return -((self.features - 1) * torch.log1p(beta * h) + torch.log1p(alpha * beta * h**2))

    def forward(
        self, x: torch.Tensor, context: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        alpha, beta = self._alpha_beta()
        d = x.flatten(1) - self.z0  # an image is one vector per example
        rx = d.norm(dim=1)
        # r^2 + c r - alpha rx = 0 with c = alpha + beta - rx; the root r >= 0, written
        # without subtracting close numbers for either sign of c.
        c = alpha + beta - rx
        root = torch.sqrt(c**2 + 4 * alpha * rx)
        positive = c > 0
        safe = torch.where(positive, c + root, torch.ones_like(c))  # no 0/0 in either branch
        r = torch.where(positive, 2 * alpha * rx / safe, (root - c) / 2)
        z = self.z0 + d * ((alpha + r) / (alpha + beta + r)).unsqueeze(1)
        return z.view(x.shape), self._contribution(alpha, beta, r)

    def inverse(self, z: torch.Tensor, context: torch.Tensor | None = None) -> torch.Tensor:
        alpha, beta = self._alpha_beta()
        d = z.flatten(1) - self.z0  # an image is one vector per example
        r = d.norm(dim=1, keepdim=True)
        return (self.z0 + d * (1 + beta / (alpha + r))).view(z.shape)
