"""Discretized logistic (mixture) base distribution over integer latents.

The base of integer discrete flows (Hoogeboom et al. 2019, "Integer Discrete Flows and
Lossless Compression", arXiv:1905.07376), after PixelCNN++ (Salimans et al. 2017,
arXiv:1701.05517): the mass of a logistic mixture on ``[z - 1/2, z + 1/2]``, tails folded
into the end bins when the latents have K levels. An exact log-pmf.

Example::

    prior: {kind: discretized_logistic, mixtures: 4, in: body}
"""

from __future__ import annotations

from typing import Literal

from flowspec.core.example import Example
from flowspec.core.ports import PortInfo, Support
from flowspec.densities.discretized_logistic import DiscretizedLogisticSpec
from flowspec.nodes._density_as_base import DensityDistributionSpec

__all__ = ["DiscretizedLogisticBaseSpec"]


class DiscretizedLogisticBaseSpec(DensityDistributionSpec, DiscretizedLogisticSpec):  # type: ignore[misc]  # NodeSpec.describe wins
    """A mixture of discretized logistics per element (learned, or from a context)."""

    kind: Literal["discretized_logistic"] = "discretized_logistic"
    summary = "discretized logistic mixture base distribution over integers"
    reference = "Hoogeboom et al. 2019, Integer Discrete Flows, arXiv:1905.07376"
    contribution = "log DLogistic(z)"
    has_parameters = True
    examples = (
        Example({"mixtures": 2}, (PortInfo((2,), Support(levels=4)),), label="levels"),
        Example(
            {"net": {"hidden": [4]}},
            (PortInfo((2,), Support(integers=True)),),
            PortInfo((2,)),
            label="integers",
        ),
    )
