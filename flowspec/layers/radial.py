"""The radial flow's torch module (spec and maths: :mod:`flowspec.nodes.radial`)."""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from flowspec.core.layer import FlowLayer
from flowspec.layers._amortized import per_example

__all__ = ["Radial"]


class Radial(FlowLayer):
    """Generation ``x = z0 + (z - z0) (alpha + beta + r) / (alpha + r)``; inference solves
    the radius in closed form. With a ``net`` the raw parameters are
    ``(z0, alpha_raw, beta_raw) + net(c)`` per example (amortized)."""

    def __init__(self, features: int, net: nn.Module | None = None) -> None:
        super().__init__()
        self.features = features
        self.z0 = nn.Parameter(torch.randn(features) / features**0.5)
        self.alpha_raw = nn.Parameter(torch.zeros(()))
        self.beta_raw = nn.Parameter(torch.zeros(()))
        self.net = net

    def parameters_for(
        self, context: torch.Tensor | None
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """``z0`` (rows of ``(batch or 1, D)``), ``alpha > 0`` and ``beta >= -alpha``
        (``(batch or 1,)``): ``alpha = softplus(.)``, ``beta = -alpha + softplus(.)``."""
        z0, alpha_raw, beta_raw = per_example(
            (self.z0, self.alpha_raw, self.beta_raw), self.net, context
        )
        alpha = F.softplus(alpha_raw)
        return z0, alpha, -alpha + F.softplus(beta_raw)

    def _contribution(
        self, alpha: torch.Tensor, beta: torch.Tensor, r: torch.Tensor
    ) -> torch.Tensor:
        """Inference ``log|det dz/dx|`` at the point whose latent radius is ``r``."""
        h = 1 / (alpha + r)
        return -((self.features - 1) * torch.log1p(beta * h) + torch.log1p(alpha * beta * h**2))

    def forward(
        self, x: torch.Tensor, context: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        z0, alpha, beta = self.parameters_for(context)
        d = x.flatten(1) - z0  # an image is one vector per example
        rx = d.norm(dim=1)
        # r^2 + c r - alpha rx = 0 with c = alpha + beta - rx; the root r >= 0, written
        # without subtracting close numbers for either sign of c.
        c = alpha + beta - rx
        root = torch.sqrt(c**2 + 4 * alpha * rx)
        positive = c > 0
        safe = torch.where(positive, c + root, torch.ones_like(c))  # no 0/0 in either branch
        r = torch.where(positive, 2 * alpha * rx / safe, (root - c) / 2)
        z = z0 + d * ((alpha + r) / (alpha + beta + r)).unsqueeze(1)
        return z.view(x.shape), self._contribution(alpha, beta, r)

    def inverse(self, z: torch.Tensor, context: torch.Tensor | None = None) -> torch.Tensor:
        z0, alpha, beta = self.parameters_for(context)
        d = z.flatten(1) - z0  # an image is one vector per example
        r = d.norm(dim=1)
        return (z0 + d * (1 + beta / (alpha + r)).unsqueeze(1)).view(z.shape)
