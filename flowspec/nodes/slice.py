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

from typing import TYPE_CHECKING, Annotated, Literal

from pydantic import Field, PositiveInt

from flowspec.core.example import Example
from flowspec.core.node import NodeCheck
from flowspec.core.ports import PortInfo, Support, numel
from flowspec.densities.choice import DensityChoice, kind_default
from flowspec.nodes._checks import check_feature_axis
from flowspec.nodes._uses_densities import UsesDensities, check_decoder

if TYPE_CHECKING:
    from flowspec.layers.slice import Slice

__all__ = ["SliceSpec"]


class SliceSpec(UsesDensities):
    """SurVAE slice: keep the first ``keep`` features; the rest get a decoder density."""

    kind: Literal["slice"] = "slice"
    keep: PositiveInt = Field(
        description="How many leading features (channels for [C, H, W]) along the feature "
        "axis pass on; must be smaller than the size of that axis."
    )
    decoder: Annotated[DensityChoice, kind_default("gaussian")] = Field(
        default_factory=lambda: {"kind": "gaussian"},
        validate_default=True,
        description="Density p(x_drop | z) of the dropped features given the kept ones; any "
        "density kind that models their values ({net: ...} alone means a gaussian).",
    )
    summary = "SurVAE slice: z = x[:keep], x_drop ~ p(x_drop | z) in generation"
    reference = "Nielsen et al. 2020, SurVAE Flows, arXiv:2007.02731"
    contribution = "log p(x_drop | z)"
    bijective = False
    stochastic_inverse = True

    has_parameters = True
    examples = (
        Example({"keep": 4, "decoder": {"net": {"hidden": [4]}}}, (PortInfo((6,)),), label="flat"),
        Example(
            {"keep": 1, "decoder": {"net": {"hidden": [4]}}}, (PortInfo((2, 2, 2)),), label="image"
        ),
        Example(
            {"keep": 1, "decoder": {"kind": "categorical", "net": {"hidden": [4]}}},
            (PortInfo((3,), Support(levels=3)),),
            label="discrete",
        ),
    )

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
        if not check_decoder(self.decoder, self._dropped(x), check, "decoder"):
            return None
        return (x.with_shape((self.keep, *x.shape[1:])),)

    def _dropped(self, x: PortInfo) -> PortInfo:
        return x.with_shape((x.shape[0] - self.keep, *x.shape[1:]))

    def modelled_by(self) -> str:
        return f"{self.decoder.describe()} given the kept features"

    def parameter_count(self, inputs: tuple[PortInfo, ...], context: PortInfo | None) -> int:
        x = inputs[0]
        return self.decoder.density_parameter_count(
            self._dropped(x), numel((self.keep, *x.shape[1:]))
        )

    def build(self, inputs: tuple[PortInfo, ...], context: PortInfo | None) -> Slice:
        from flowspec.layers.slice import Slice

        x = inputs[0]
        kept = numel((self.keep, *x.shape[1:]))
        return Slice(self.keep, self.decoder.build(self._dropped(x), kept))
