"""Standard normal base distribution, the usual terminal node of a flow.

Example::

    prior: {kind: standard_normal, in: body}
"""

from __future__ import annotations

import math
from typing import Literal

import torch

from flowspec.core.node import DistributionLayer, NodeCheck, NodeSpec
from flowspec.core.ports import PortInfo

__all__ = ["StandardNormalSpec", "StandardNormal", "check_real_valued"]

LOG_SQRT_2PI = 0.5 * math.log(2 * math.pi)


def check_real_valued(x: PortInfo, check: NodeCheck) -> None:
    """A density on the whole real line fed with bounded or discrete values gives a
    log_prob that is not a normalized density of the data; say so."""
    if x.support.discrete:
        check.error(
            "E501",
            f"a continuous density cannot model discrete values {x.support}",
            "in",
            hint="add {kind: uniform_dequantization} after the input",
        )
    elif not x.support.is_real_line:
        check.warning(
            "W501",
            f"the input lives in {x.support} but this density covers the whole real line, "
            "so log_prob will not be normalized over the data's domain",
            "in",
            hint="map it to the real line first, e.g. {kind: elementwise, fn: logit}",
        )


class StandardNormalSpec(NodeSpec):
    """Standard normal N(0, I) over the whole event shape."""

    kind: Literal["standard_normal"] = "standard_normal"
    summary = "standard normal base distribution N(0, I)"
    contribution = "log N(z; 0, I)"
    terminal = True

    def infer(
        self, inputs: tuple[PortInfo, ...], context: PortInfo | None, check: NodeCheck
    ) -> tuple[PortInfo, ...]:
        check_real_valued(inputs[0], check)
        return ()

    def build(self, inputs: tuple[PortInfo, ...], context: PortInfo | None) -> StandardNormal:
        return StandardNormal(inputs[0].shape)


class StandardNormal(DistributionLayer):
    def __init__(self, shape: tuple[int, ...]):
        super().__init__()
        self.shape = tuple(shape)
        self.register_buffer("anchor", torch.zeros(()), persistent=False)

    def forward(self, z: torch.Tensor, context: torch.Tensor | None = None) -> torch.Tensor:
        return -0.5 * z.pow(2).flatten(1).sum(1) - LOG_SQRT_2PI * z[0].numel()

    def sample(self, n: int, context: torch.Tensor | None = None) -> torch.Tensor:
        return torch.randn(n, *self.shape, device=self.anchor.device, dtype=self.anchor.dtype)
