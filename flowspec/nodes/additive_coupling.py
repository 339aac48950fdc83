"""Additive coupling (NICE).

Dinh, Krueger and Bengio, "NICE: Non-linear Independent Components Estimation", ICLR 2015
workshop, arXiv:1410.8516.

Inference: ``z_a = x_a``, ``z_b = x_b + t(x_a)``. The Jacobian is unit triangular, so the
layer preserves volume and its contribution is zero. The conditioner's last layer starts
at zero, so the layer starts as the identity.

Example::

    {kind: additive_coupling, net: {kind: mlp, hidden: [64, 64]}, mask: alternate}
"""

from __future__ import annotations

from typing import Literal

import torch
from torch import nn

from flowspec.core.node import FlowLayer, NodeCheck
from flowspec.core.ports import REAL, PortInfo
from flowspec.nodes._coupling import CouplingSpec, MaskedSplit, conditioner_input
from flowspec.nodes._checks import check_continuous

__all__ = ["AdditiveCouplingSpec", "AdditiveCoupling"]


class AdditiveCouplingSpec(CouplingSpec):
    """Additive coupling layer (NICE): shifts the transformed features given the rest."""

    kind: Literal["additive_coupling"] = "additive_coupling"
    summary = "NICE additive coupling: z_b = x_b + t(x_a), volume preserving"
    reference = (
        "Dinh et al. 2014, NICE: Non-linear Independent Components Estimation, arXiv:1410.8516"
    )
    contribution = "0"

    def infer(self, inputs, context, check: NodeCheck):
        ok = self.check_coupling(inputs, context, check)
        if not check_continuous(inputs[0], self.kind, check) or not ok:
            return None
        return (PortInfo(inputs[0].shape, REAL),)

    def build(self, inputs, context) -> nn.Module:
        features = inputs[0].shape[0]
        mask = self.mask_vector(features)
        n_keep = sum(mask)
        n_context = context.numel if context is not None else 0
        net = self.net.build(n_keep + n_context, features - n_keep, zero_init=True)
        return AdditiveCoupling(MaskedSplit(mask), net)


class AdditiveCoupling(FlowLayer):
    """``z = merge(x_a, x_b + t(x_a, context))``; zero contribution."""

    def __init__(self, parts: MaskedSplit, net: nn.Module):
        super().__init__()
        self.parts = parts
        self.net = net

    def forward(self, x: torch.Tensor, context: torch.Tensor | None = None):
        a, b = self.parts.split(x)
        z = self.parts.merge(a, b + self.net(conditioner_input(a, context)))
        return z, x.new_zeros(x.shape[0])

    def inverse(self, z: torch.Tensor, context: torch.Tensor | None = None) -> torch.Tensor:
        a, b = self.parts.split(z)
        return self.parts.merge(a, b - self.net(conditioner_input(a, context)))
