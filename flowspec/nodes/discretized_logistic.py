"""Discretized logistic (mixture) base distribution over integer latents.

The base of integer discrete flows (Hoogeboom et al. 2019, "Integer Discrete Flows and
Lossless Compression", arXiv:1905.07376), after PixelCNN++ (Salimans et al. 2017,
arXiv:1701.05517): the mass of a logistic mixture on ``[z - 1/2, z + 1/2]``, tails folded
into the end bins when the latents have K levels. An exact log-pmf. Over all integers the
components start at the mean and spread of the values reaching the node in the training
data (set by ``model.initialize``, as actnorm is), not at 0 with scale 1.

Given a ``context``, a network computes the parameters from it: a flat network of the
flattened context, or, for an image context ``[C', H, W]`` of the values' height and width,
a convolutional conditioner giving every pixel's parameters (the split priors of IDF's
official code: a DenseNet from the kept channels to the factored-out ones).

Example::

    prior: {kind: discretized_logistic, mixtures: 4, in: body}
    out1: {kind: discretized_logistic, in: halves.out1, context: halves.out0,
           net: {kind: densenet, channels: 512, depth: 12}}
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar, Literal

from pydantic import Field

from flowspec.conditioners._image import ConvolutionalSpec
from flowspec.conditioners.choice import CouplingConditionerChoice
from flowspec.conditioners.mlp import MLPSpec
from flowspec.core.example import Example
from flowspec.core.node import NodeCheck
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
    net: CouplingConditionerChoice = Field(  # images too
        default_factory=MLPSpec,
        description="Network from the context to the parameters: a flat one (of the "
        "flattened context), or for an image context of the values' height and width a "
        "convolutional one. Unused without a context.",
    )
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
        Example(
            {"net": {"kind": "densenet", "channels": 4, "depth": 2}},
            (PortInfo((2, 2, 2), Support(integers=True)),),
            PortInfo((3, 2, 2)),
            label="image context",
        ),
    )

    def infer(
        self, inputs: tuple[PortInfo, ...], context: PortInfo | None, check: NodeCheck
    ) -> tuple[PortInfo, ...] | None:
        outputs = super().infer(inputs, context, check)
        if outputs is None or context is None:
            return outputs
        values = inputs[0]
        if isinstance(self.net, ConvolutionalSpec) and (
            len(context.shape) != 3
            or len(values.shape) != 3
            or context.shape[1:] != values.shape[1:]
        ):
            check.error(
                "E656",
                f"a {self.net.kind} net computes each pixel's parameters from the context's "
                f"pixels: the context must be an image of the values' size, but the values "
                f"are {values} and the context {context}",
                "context",
                hint="use a context of the values' height and width (the kept half of a "
                "channel split), or net: {kind: mlp}",
            )
            return None
        if not self.net.check_coupling(context.shape, values.shape, None, check, "net"):
            return None
        return outputs

    def parameter_count(self, inputs: tuple[PortInfo, ...], context: PortInfo | None) -> int:
        if context is None:
            return self.param_count(inputs[0])
        return self.net.coupling_parameter_count(
            context.shape, inputs[0].shape, 3 * self.mixtures, None
        )

    # A node's build (ports in), not the density's (an event and a width), which it wraps.
    def build(  # type: ignore[override]
        self, inputs: tuple[PortInfo, ...], context: PortInfo | None
    ) -> DiscretizedLogisticBase:
        from flowspec.layers.densities.discretized_logistic import DiscretizedLogistic
        from flowspec.layers.discretized_logistic import ContextNet, DiscretizedLogisticBase

        values = inputs[0]
        if context is None or not isinstance(self.net, ConvolutionalSpec):
            width = context.numel if context is not None else 0
            density = DensitySpec.build(self, values, width)  # a flat net of the flat context
            assert isinstance(density, DiscretizedLogistic)
            return DiscretizedLogisticBase(density)
        params = 3 * self.mixtures
        conditioner = self.net.build_coupling(context.shape, values.shape, params, None)
        net = ContextNet(conditioner, context.shape)
        density = DiscretizedLogistic(values.shape, self.mixtures, values.support.levels, net)
        return DiscretizedLogisticBase(density)
