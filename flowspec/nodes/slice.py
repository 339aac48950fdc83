"""Slice: keep the leading features, model the dropped ones with a conditional density.

The slice surjection of SurVAE flows (Nielsen et al. 2020, "SurVAE Flows: Surjections to
Bridge the Gap between VAEs and Flows", arXiv:2007.02731, section 4). Inference is the
deterministic, many-to-one map ``z = x[:, :keep]`` along the feature axis; generation
draws the dropped part from a decoder, ``x_drop ~ p(x_drop | z)``, and concatenates.
Because inference is deterministic and the dropped part is modelled by a normalized
density given the kept part, ``p(x) = p(z) p(x_drop | z)`` exactly, so the contribution

    log p(x_drop | z)

is exact (no bound). The decoder is a conditional diagonal Gaussian; for image inputs
[C, H, W] the channels are sliced and the decoder sees the flattened kept channels.

Example::

    {kind: slice, keep: 4, decoder: {net: {kind: mlp, hidden: [64]}}}
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from pydantic import Field, PositiveInt

from flowspec.core.node import NodeCheck, NodeSpec
from flowspec.core.ports import PortInfo, numel
from flowspec.nodes._conditional import ConditionalNormalParams
from flowspec.nodes._checks import check_feature_axis, check_real_valued

if TYPE_CHECKING:
    from flowspec.layers.slice import Slice

__all__ = ["SliceSpec"]


class SliceSpec(NodeSpec):
    """SurVAE slice: keep the first ``keep`` features; the rest get a decoder density."""

    kind: Literal["slice"] = "slice"
    keep: PositiveInt = Field(
        description="How many leading features (channels for [C, H, W]) along the feature "
        "axis pass on; must be smaller than the size of that axis."
    )
    decoder: ConditionalNormalParams = Field(
        default_factory=ConditionalNormalParams,
        description="Conditional Gaussian p(x_drop | z) of the dropped features given the kept.",
    )
    summary = "SurVAE slice: z = x[:keep], x_drop ~ p(x_drop | z) in generation"
    reference = "Nielsen et al. 2020, SurVAE Flows, arXiv:2007.02731"
    contribution = "log p(x_drop | z)"
    bijective = False
    stochastic_inverse = True

    def infer(
        self, inputs: tuple[PortInfo, ...], context: PortInfo | None, check: NodeCheck
    ) -> tuple[PortInfo, ...] | None:
        (x,) = inputs
        if not check_feature_axis(x, self.kind, check):
            return None
        features = x.shape[0]
        if self.keep >= features:
            check.error(
                "E466",
                f"keep must be smaller than the {features} features of the input {x}, "
                f"got keep: {self.keep}, which drops nothing",
                "keep",
                hint=f"choose keep between 1 and {features - 1}",
            )
            return None
        # The decoder is a density on the dropped values: they must be real-valued.
        check_real_valued(x, check)
        return (x.with_shape((self.keep, *x.shape[1:])),)

    def parameter_count(self, inputs: tuple[PortInfo, ...], context: PortInfo | None) -> int:
        shape = inputs[0].shape
        kept, dropped = (self.keep, *shape[1:]), (shape[0] - self.keep, *shape[1:])
        return self.decoder.density_parameter_count(numel(kept), dropped)

    def build(self, inputs: tuple[PortInfo, ...], context: PortInfo | None) -> Slice:
        from flowspec.layers.slice import Slice

        shape = inputs[0].shape
        kept = (self.keep, *shape[1:])
        dropped = (shape[0] - self.keep, *shape[1:])
        return Slice(self.keep, self.decoder.build_density(numel(kept), dropped))


