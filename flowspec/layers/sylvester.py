"""The Sylvester flow's torch module (spec and maths: :mod:`flowspec.nodes.sylvester`)."""

from __future__ import annotations

from typing import NoReturn

import torch
from torch import nn

from flowspec.core.layer import FlowLayer
from flowspec.layers._amortized import per_example
from flowspec.layers.planar import no_inference

__all__ = ["Sylvester"]


class Sylvester(FlowLayer):
    """Generation ``x = z + Q R tanh(R~ Q^T z + b)`` with ``Q`` from ``variant``. With a
    ``net`` every raw parameter (``Q``'s too, except the triangular variant's fixed one) is
    its global value plus ``net(c)``, per example (amortized)."""

    q_fixed: torch.Tensor

    def __init__(
        self,
        features: int,
        variant: str,
        columns: int,
        reflections: int,
        reverse: bool,
        net: nn.Module | None = None,
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
        self.net = net

    def _raw(self) -> tuple[torch.Tensor, ...]:
        """The learned raw parameters, in the order the network's outputs offset them."""
        raw = (self.r_upper, self.rt_upper, self.r_diag, self.rt_diag, self.b)
        if self.variant == "orthogonal":
            return (*raw, self.q_raw)
        if self.variant == "householder":
            return (*raw, self.vectors)
        return raw

    def q(self, raw: torch.Tensor | None) -> torch.Tensor:
        """The ``(batch or 1, D, M)`` matrices of orthonormal columns, from the raw ``Q``
        parameters (free ``D x M`` matrices or reflection vectors; None: triangular)."""
        if raw is None:
            return self.q_fixed.unsqueeze(0)
        if self.variant == "orthogonal":
            return torch.linalg.qr(raw)[0]
        eye = torch.eye(raw.shape[2], dtype=raw.dtype, device=raw.device)
        q = eye.expand(raw.shape[0], -1, -1)
        for v in raw.unbind(1):  # each reflection, (batch or 1, D)
            qv = (q @ v.unsqueeze(2)).squeeze(2)
            q = q - (2 / (v * v).sum(1)).reshape(-1, 1, 1) * qv.unsqueeze(2) * v.unsqueeze(1)
        return q

    def parameters_for(
        self, context: torch.Tensor | None
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        """``Q``, ``R``, ``R~`` (``(batch or 1, ., .)``) and ``b``, ``diag R * diag R~``
        (``(batch or 1, M)``), the diagonals ``tanh(.)`` so that their product is in
        (-1, 1) in every row."""
        r_upper, rt_upper, r_diag, rt_diag, b, *q_raw = per_example(self._raw(), self.net, context)
        d, dt = torch.tanh(r_diag), torch.tanh(rt_diag)
        r = torch.triu(r_upper, 1) + torch.diag_embed(d)
        rt = torch.triu(rt_upper, 1) + torch.diag_embed(dt)
        return self.q(q_raw[0] if q_raw else None), r, rt, b, d * dt

    def inverse_and_contribution(
        self, z: torch.Tensor, context: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Generation and the inference contribution at the generated ``x``:
        ``-sum_i log|1 + tanh'(.)_i R_ii R~_ii|``."""
        q, r, rt, b, diagonal = self.parameters_for(context)
        flat = z.flatten(1)  # an image is one vector per example
        pre = (flat.unsqueeze(1) @ q @ rt.transpose(1, 2)).squeeze(1) + b
        t = torch.tanh(pre)
        x = flat + (t.unsqueeze(1) @ r.transpose(1, 2) @ q.transpose(1, 2)).squeeze(1)
        return x.view(z.shape), -torch.log1p((1 - t**2) * diagonal).sum(dim=1)

    def inverse(self, z: torch.Tensor, context: torch.Tensor | None = None) -> torch.Tensor:
        return self.inverse_and_contribution(z, context)[0]

    def forward(self, x: torch.Tensor, context: torch.Tensor | None = None) -> NoReturn:
        raise no_inference("sylvester", "Sylvester flows have no inverse in flowspec")
