"""Discretized logistic (mixture) base distribution over integer latents.

The base of integer discrete flows (Hoogeboom et al. 2019, "Integer Discrete Flows and
Lossless Compression", arXiv:1905.07376), after PixelCNN++ (Salimans et al. 2017,
arXiv:1701.05517): the mass of a logistic mixture on ``[z - 1/2, z + 1/2]``, tails folded
into the end bins when the latents have K levels. An exact log-pmf. Over all integers the
components start at the mean and spread of the values reaching the node in the training
data (set by ``model.initialize``, as actnorm is), not at 0 with scale 1.

Example::

    prior: {kind: discretized_logistic, mixtures: 4, in: body}
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar, Literal

from flowspec.core.example import Example
from flowspec.core.ports import PortInfo, Support
from flowspec.densities.base import DensitySpec
from flowspec.densities.discretized_logistic import DiscretizedLogisticSpec
from flowspec.nodes._density_as_base import DensityDistributionSpec

if TYPE_CHECKING:
    from flowspec.layers.discretized_logistic import DiscretizedLogisticBase

__all__ = ["DiscretizedLogisticBaseSpec"]


class DiscretizedLogisticBaseSpec(DensityDistributionSpec, DiscretizedLogisticSpec):  # type: ignore[misc]  # NodeSpec.describe wins
    """A mixture of discretized logistics per element (learned, or from a context)."""

    kind: Literal["discretized_logistic"] = "discretized_logistic"
    summary = "discretized logistic mixture base distribution over integers"
    reference = "Hoogeboom et al. 2019, Integer Discrete Flows, arXiv:1905.07376"
    contribution = "log DLogistic(z)"
    has_parameters = True
    examples: ClassVar[tuple[Example, ...]] = (
        Example({"mixtures": 2}, (PortInfo((2,), Support(levels=4)),), label="levels"),
        Example(
            {"net": {"hidden": [4]}},
            (PortInfo((2,), Support(integers=True)),),
            PortInfo((2,)),
            label="integers",
        ),
        Example({"mixtures": 3}, (PortInfo((3,), Support(integers=True)),), label="unconditional"),
    )

    # A node's build (ports in), not the density's (an event and a width), which it wraps.
    def build(  # type: ignore[override]
        self, inputs: tuple[PortInfo, ...], context: PortInfo | None
    ) -> DiscretizedLogisticBase:
        from flowspec.layers.densities.discretized_logistic import DiscretizedLogistic
        from flowspec.layers.discretized_logistic import DiscretizedLogisticBase

        width = context.numel if context is not None else 0
        density = DensitySpec.build(self, inputs[0], width)
        assert isinstance(density, DiscretizedLogistic)
        return DiscretizedLogisticBase(density)
