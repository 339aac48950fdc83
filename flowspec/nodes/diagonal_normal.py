"""Diagonal normal base distribution with a learned mean and scale.

``p(z) = N(z; mu, diag sigma^2)`` with one learned ``mu`` and ``log sigma`` per element of
the event, both starting at 0 (so it starts as the standard normal). A learned base is the
"learnable base distribution" of e.g. Glow (Kingma and Dhariwal 2018, arXiv:1807.03039);
see Papamakarios et al. 2021, "Normalizing Flows for Probabilistic Modeling and
Inference", arXiv:1912.02762, section 2.

Example::

    prior: {kind: diagonal_normal, in: body}
"""

from __future__ import annotations

from typing import Literal

import torch
from torch import nn

from flowspec.core.layer import DistributionLayer
from flowspec.core.ports import PortInfo
from flowspec.nodes._conditional import LOG_SQRT_2PI
from flowspec.nodes._distribution import UnconditionalDistributionSpec

__all__ = ["DiagonalNormalSpec", "DiagonalNormal"]


class DiagonalNormalSpec(UnconditionalDistributionSpec):
    """Normal N(mu, diag sigma^2) over the event, with learned mu and log sigma (init 0)."""

    kind: Literal["diagonal_normal"] = "diagonal_normal"
    summary = "diagonal normal base distribution N(mu, diag sigma^2), mu and sigma learned"
    reference = (
        "Papamakarios et al. 2021, Normalizing Flows for Probabilistic Modeling and "
        "Inference, arXiv:1912.02762"
    )
    contribution = "log N(z; mu, diag sigma^2)"

    def build(self, inputs: tuple[PortInfo, ...], context: PortInfo | None) -> DiagonalNormal:
        return DiagonalNormal(inputs[0].shape)


class DiagonalNormal(DistributionLayer):
    """N(loc, diag exp(log_scale)^2) over the event, both parameters learned."""

    def __init__(self, shape: tuple[int, ...]):
        super().__init__()
        self.shape = tuple(shape)
        self.loc = nn.Parameter(torch.zeros(self.shape))
        self.log_scale = nn.Parameter(torch.zeros(self.shape))

    def forward(self, z: torch.Tensor, context: torch.Tensor | None = None) -> torch.Tensor:
        eps = (z - self.loc) * torch.exp(-self.log_scale)
        return (-0.5 * eps.pow(2) - self.log_scale - LOG_SQRT_2PI).flatten(1).sum(1)

    def sample(self, n: int, context: torch.Tensor | None = None) -> torch.Tensor:
        eps = torch.randn(n, *self.shape, device=self.loc.device, dtype=self.loc.dtype)
        return self.loc + torch.exp(self.log_scale) * eps
