"""The planar flow's torch module (spec and maths: :mod:`flowspec.nodes.planar`)."""

from __future__ import annotations

import math

import torch
from torch import nn
from torch.nn import functional as F

from flowspec.core.layer import FlowLayer
from flowspec.layers._amortized import per_example
from flowspec.layers._solvers import increasing_root

__all__ = ["Planar", "no_inference"]


def no_inference(kind: str, remedy: str) -> RuntimeError:
    """The error a generation-only layer raises when asked for inference."""
    return RuntimeError(
        f"this {kind} layer has no inference direction (data -> latent): {remedy}; "
        "sample_and_log_prob gives the density of the model's own samples"
    )


class Planar(FlowLayer):
    """Generation ``x = z + u tanh(w.z + b)``; inference by root finding when ``method``
    is set (``"bisection"`` or ``"newton"``), else unavailable. With a ``net`` the raw
    parameters are ``(w, u_raw, b) + net(c)`` per example (amortized)."""

    def __init__(
        self,
        features: int,
        method: str | None,
        tol: float,
        max_iter: int,
        net: nn.Module | None = None,
    ) -> None:
        super().__init__()
        self.method, self.tol, self.max_iter = method, tol, max_iter
        w = torch.randn(features) / features**0.5
        self.w = nn.Parameter(w)
        # u_raw = softplus^-1(1) w / |w|^2 makes u() exactly 0: the layer starts at the
        # identity (u_raw = 0 gave u.w = softplus(0) - 1 = -0.31, a contraction per layer).
        self.u_raw = nn.Parameter(math.log(math.e - 1) * w / (w @ w))
        self.b = nn.Parameter(torch.zeros(()))
        self.net = net

    def parameters_for(
        self, context: torch.Tensor | None
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """``w`` and ``u`` (rows of ``(batch or 1, D)``) and ``b`` (``(batch or 1,)``), with
        ``u.w = -1 + softplus(u_raw.w) > -1`` in every row (Rezende and Mohamed, App. A.1)."""
        w, u_raw, b = per_example((self.w, self.u_raw, self.b), self.net, context)
        wu = (w * u_raw).sum(1, keepdim=True)
        shift = (-1 + F.softplus(wu) - wu) / (w * w).sum(1, keepdim=True)
        return w, u_raw + shift * w, b

    def _log_slope(self, wu: torch.Tensor, pre: torch.Tensor) -> torch.Tensor:
        """``log(1 + u.w tanh'(pre))``, positive argument since ``u.w > -1``."""
        return torch.log1p(wu * (1 - torch.tanh(pre) ** 2))

    def inverse_and_contribution(
        self, z: torch.Tensor, context: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Generation and the inference contribution at the generated ``x``:
        ``log|det dz/dx| = -log|1 + u.w tanh'(w.z + b)|``."""
        w, u, b = self.parameters_for(context)
        flat = z.flatten(1)  # an image is one vector per example
        pre = (flat * w).sum(1) + b
        x = flat + torch.tanh(pre).unsqueeze(1) * u
        return x.view(z.shape), -self._log_slope((w * u).sum(1), pre)

    def inverse(self, z: torch.Tensor, context: torch.Tensor | None = None) -> torch.Tensor:
        return self.inverse_and_contribution(z, context)[0]

    def forward(
        self, x: torch.Tensor, context: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        if self.method is None:
            raise no_inference("planar", "give its spec an 'inverse' setting")
        w, u, b = self.parameters_for(context)
        wu = (w * u).sum(1)
        shape = x.shape
        x = x.flatten(1)  # an image is one vector per example
        target = (x * w).sum(1)

        def equation(a: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
            t = torch.tanh(a + b)
            return a + wu * t, 1 + wu * (1 - t**2)

        spread = wu.abs().detach()
        a = increasing_root(
            equation, target, target - spread, target + spread, self.method, self.tol, self.max_iter
        )
        pre = a + b
        z = x - torch.tanh(pre).unsqueeze(1) * u
        return z.view(shape), -self._log_slope(wu, pre)
