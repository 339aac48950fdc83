"""Affine coupling (RealNVP).

Dinh, Sohl-Dickstein and Bengio, "Density estimation using Real NVP", ICLR 2017,
arXiv:1605.08803.

Inference: ``z_a = x_a``, ``z_b = x_b * exp(s(x_a)) + t(x_a)``, with
``log|det dz/dx| = sum(s)``. The log-scale is soft-bounded, ``s = B tanh(s_raw / B)``,
and the conditioner's last layer starts at zero, so each layer starts as the identity.

Example::

    {kind: affine_coupling, net: {kind: mlp, hidden: [64, 64]}, scale_bound: 2.0}
"""

from __future__ import annotations

from typing import Literal

import torch
from pydantic import Field, PositiveFloat
from torch import nn

from flowspec.core.layer import FlowLayer
from flowspec.core.ports import PortInfo
from flowspec.nodes._coupling import CouplingSpec, MaskedSplit, conditioner_input

__all__ = ["AffineCouplingSpec", "AffineCoupling"]


class AffineCouplingSpec(CouplingSpec):
    """Affine coupling layer (RealNVP): scales and shifts half the features given the rest."""

    kind: Literal["affine_coupling"] = "affine_coupling"
    scale_bound: PositiveFloat = Field(
        default=2.0, description="Bound B on the log-scale: s = B * tanh(s_raw / B)."
    )
    summary = "RealNVP affine coupling: z_b = x_b * exp(s(x_a)) + t(x_a)"
    reference = "Dinh et al. 2016, Density estimation using Real NVP, arXiv:1605.08803"

    def build(self, inputs: tuple[PortInfo, ...], context: PortInfo | None) -> AffineCoupling:
        # Two outputs per transformed feature: its raw log-scale and its shift.
        parts, net = self._conditioner(inputs, context, outputs_per_feature=2)
        return AffineCoupling(parts, net, self.scale_bound)


class AffineCoupling(FlowLayer):
    """``z = merge(x_a, x_b * exp(s) + t)`` with ``s, t`` from ``(x_a, context)``."""

    def __init__(self, parts: MaskedSplit, net: nn.Module, scale_bound: float):
        super().__init__()
        self.parts = parts
        self.net = net
        self.scale_bound = scale_bound

    def _scale_shift(
        self, a: torch.Tensor, context: torch.Tensor | None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        raw_scale, shift = self.net(conditioner_input(a, context)).chunk(2, dim=1)
        return self.scale_bound * torch.tanh(raw_scale / self.scale_bound), shift

    def forward(
        self, x: torch.Tensor, context: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        a, b = self.parts.split(x)
        log_scale, shift = self._scale_shift(a, context)
        z = self.parts.merge(a, b * torch.exp(log_scale) + shift)
        return z, log_scale.sum(dim=1)

    def inverse(self, z: torch.Tensor, context: torch.Tensor | None = None) -> torch.Tensor:
        a, b = self.parts.split(z)
        log_scale, shift = self._scale_shift(a, context)
        return self.parts.merge(a, (b - shift) * torch.exp(-log_scale))
