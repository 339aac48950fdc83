"""The Sylvester flow's torch module (spec and maths: :mod:`flowspec.nodes.sylvester`)."""

from __future__ import annotations

from typing import NoReturn

import torch
from torch import nn

from flowspec.core.layer import FlowLayer
from flowspec.layers.planar import no_inference

__all__ = ["Sylvester"]


class Sylvester(FlowLayer):
    """Generation ``x = z + Q R tanh(R~ Q^T z + b)`` with ``Q`` from ``variant``."""

    q_fixed: torch.Tensor

    def __init__(
        self, features: int, variant: str, columns: int, reflections: int, reverse: bool
    ) -> None:
        super().__init__()
        self.variant = variant
        m = columns
        self.r_upper = nn.Parameter(torch.randn(m, m) * 0.01)
        self.rt_upper = nn.Parameter(torch.randn(m, m) * 0.01)
        self.r_diag = nn.Parameter(torch.randn(m) * 0.1)
        self.rt_diag = nn.Parameter(torch.randn(m) * 0.1)
        self.b = nn.Parameter(torch.zeros(m))
        if variant == "orthogonal":
            self.q_raw = nn.Parameter(torch.randn(features, m))
        elif variant == "householder":
            self.vectors = nn.Parameter(torch.randn(reflections, features))
        else:
            eye = torch.eye(features)
            self.register_buffer("q_fixed", eye.flip(1) if reverse else eye, persistent=False)

    def q(self) -> torch.Tensor:
        """The ``D x M`` matrix of orthonormal columns."""
        if self.variant == "orthogonal":
            return torch.linalg.qr(self.q_raw)[0]
        if self.variant == "householder":
            q = torch.eye(
                self.vectors.shape[1], dtype=self.vectors.dtype, device=self.vectors.device
            )
            for v in self.vectors.unbind(0):
                q = q - (2 / (v @ v)) * torch.outer(q @ v, v)
            return q
        return self.q_fixed

    def diagonals(self) -> tuple[torch.Tensor, torch.Tensor]:
        """``diag R`` and ``diag R~``, each in (-1, 1), so their product is > -1."""
        return torch.tanh(self.r_diag), torch.tanh(self.rt_diag)

    def inverse_and_contribution(
        self, z: torch.Tensor, context: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Generation and the inference contribution at the generated ``x``:
        ``-sum_i log|1 + tanh'(.)_i R_ii R~_ii|``."""
        q = self.q()
        d, dt = self.diagonals()
        r = torch.triu(self.r_upper, 1) + torch.diag(d)
        rt = torch.triu(self.rt_upper, 1) + torch.diag(dt)
        flat = z.flatten(1)  # an image is one vector per example
        pre = flat @ q @ rt.T + self.b
        t = torch.tanh(pre)
        x = flat + t @ r.T @ q.T
        return x.view(z.shape), -torch.log1p((1 - t**2) * (d * dt)).sum(dim=1)

    def inverse(self, z: torch.Tensor, context: torch.Tensor | None = None) -> torch.Tensor:
        return self.inverse_and_contribution(z)[0]

    def forward(self, x: torch.Tensor, context: torch.Tensor | None = None) -> NoReturn:
        raise no_inference("sylvester", "Sylvester flows have no inverse in flowspec")
