"""Augment: append noise features drawn from a learned encoder.

VFlow (Chen et al. 2020, "VFlow: More Expressive Generative Flows with Variational Data
Augmentation", arXiv:2002.09741) and the augmentation surjection of SurVAE flows (Nielsen
et al. 2020, arXiv:2007.02731). Inference draws ``e ~ q(e | x)`` with the
reparameterisation trick and passes on ``z = concat(x, e)``; generation drops ``e``. Since

    log p(x) = log E_q[p(z) / q(e | x)] >= E_q[log p(z) - log q(e | x)],

the contribution ``-log q(e | x)`` of one draw gives an unbiased one-sample estimate of a
lower bound (exact only when q is the model's posterior of e). The encoder is a
conditional diagonal Gaussian given the flat input.

Example::

    {kind: augment, extra: 4, encoder: {net: {kind: mlp, hidden: [64]}}}
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Literal

from pydantic import Field

from flowspec.core.example import Example
from flowspec.core.node import MAX_AXIS, NodeCheck
from flowspec.core.ports import PortInfo, Support
from flowspec.densities.choice import DensityChoice, kind_default
from flowspec.nodes._uses_densities import UsesDensities
from flowspec.nodes.rounding import check_dequantizer

if TYPE_CHECKING:
    from flowspec.layers.augment import Augment

__all__ = ["AugmentSpec"]


class AugmentSpec(UsesDensities):
    """VFlow augmentation: z = concat(x, e), e ~ q(e | x); flat inputs [D] -> [D + extra]."""

    kind: Literal["augment"] = "augment"
    extra: int = Field(
        gt=0, le=MAX_AXIS, description="How many noise features to append to the input."
    )
    encoder: Annotated[DensityChoice, kind_default("gaussian")] = Field(
        default_factory=lambda: {"kind": "gaussian"},
        validate_default=True,
        description="Density q(e | x) the added features are drawn from, given the input; "
        "a reparameterised kind ({net: ...} alone means a gaussian).",
    )
    summary = "VFlow augmentation: z = concat(x, e), e ~ q(e | x)"
    reference = "Chen et al. 2020, VFlow, arXiv:2002.09741"
    contribution = "-log q(e | x)"
    bijective = False
    stochastic_forward = True
    proposals = ("encoder",)

    has_parameters = True
    examples = (Example({"extra": 2, "encoder": {"net": {"hidden": [4]}}}, (PortInfo((3,)),)),)

    def infer(
        self, inputs: tuple[PortInfo, ...], context: PortInfo | None, check: NodeCheck
    ) -> tuple[PortInfo, ...] | None:
        (x,) = inputs
        if len(x.shape) != 1:
            check.error(
                "E401",
                f"augment needs a flat input [D], got {x}",
                "in",
                hint="add {kind: flatten} before it",
            )
            return None
        if x.support.discrete:
            check.error(
                "E410",
                f"augment needs real-valued inputs, got discrete values {x.support}: the "
                "output would mix discrete and continuous features",
                "in",
                hint="add {kind: uniform_dequantization} before it",
            )
            return None
        if not check_dequantizer(self.encoder, PortInfo((self.extra,)), check, "encoder"):
            return None
        # The output holds x and real-valued noise: its hull is the whole real line, which
        # bounded x does not fill.
        return (PortInfo((x.shape[0] + self.extra,), Support(partial=not x.support.is_real_line)),)

    def parameter_count(self, inputs: tuple[PortInfo, ...], context: PortInfo | None) -> int:
        return self.encoder.density_parameter_count(PortInfo((self.extra,)), inputs[0].shape[0])

    def build(self, inputs: tuple[PortInfo, ...], context: PortInfo | None) -> Augment:
        from flowspec.layers.augment import Augment

        features = inputs[0].shape[0]
        return Augment(features, self.encoder.build(PortInfo((self.extra,)), features))

    def modelled_by(self) -> str:
        return f"proposed by {self.encoder.describe()} given the input"
