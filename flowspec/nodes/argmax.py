"""Argmax surjection: categorical data as the argmax of continuous latents.

Hoogeboom et al. 2021, "Argmax Flows and Multinomial Diffusion: Learning Categorical
Distributions", arXiv:2102.05379, section 4. Generation is deterministic:
``x_d = argmax_k z_{d,k}``. Inference proposes ``z`` in the cell ``{argmax z_d = x_d}``
with a thresholding encoder: ``v ~ q(v | x)`` (a reparameterised density given the one-hot
``x``), then ``z_{d,x_d} = v_{d,x_d}`` and ``z_{d,k} = v_{d,x_d} - softplus(v_{d,x_d} - v_{d,k})``
for ``k != x_d``, so every other entry lies below the chosen one. The map ``v -> z`` is
triangular with ``dz_{d,k}/dv_{d,k} = sigmoid(v_{d,x_d} - v_{d,k})``, hence

    log q(z | x) = log q(v | x) - sum_{d, k != x_d} log sigmoid(v_{d,x_d} - v_{d,k})

and, since ``P(x | z) = 1`` on the cell, the contribution ``-log q(z | x)`` is a
one-sample term of ``log P(x) >= E_q[log p(z) - log q(z | x)]``. The output is flat
``[D * K]`` (row ``d`` holds the K scores of element ``d``).

Example::

    lift: {kind: argmax, in: tokens, encoder: {kind: gaussian, net: {kind: mlp, hidden: [64]}}}
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Literal

from pydantic import Field

from flowspec.core.example import Example
from flowspec.core.node import NodeCheck
from flowspec.core.ports import REAL, PortInfo, Support
from flowspec.densities.choice import DensityChoice, kind_default
from flowspec.nodes._uses_densities import UsesDensities
from flowspec.nodes.rounding import check_dequantizer

if TYPE_CHECKING:
    from flowspec.layers.argmax import Argmax

__all__ = ["ArgmaxSpec"]


class ArgmaxSpec(UsesDensities):
    """Categorical [D] with K levels -> real [D * K] whose row-wise argmax is the data."""

    kind: Literal["argmax"] = "argmax"
    encoder: Annotated[DensityChoice, kind_default("gaussian")] = Field(
        default_factory=lambda: {"kind": "gaussian"},
        validate_default=True,
        description="Density of the unthresholded scores v given the one-hot data.",
    )
    summary = "argmax surjection: x = argmax z in generation, z ~ q(z | x) in inference"
    reference = "Hoogeboom et al. 2021, Argmax Flows, arXiv:2102.05379"
    contribution = "-log q(z | x)"
    bijective = False
    stochastic_forward = True
    proposals = ("encoder",)

    has_parameters = True
    examples = (
        Example({"encoder": {"net": {"hidden": [4]}}}, (PortInfo((3,), Support(levels=4)),)),
    )

    def infer(
        self, inputs: tuple[PortInfo, ...], context: PortInfo | None, check: NodeCheck
    ) -> tuple[PortInfo, ...] | None:
        (x,) = inputs
        if len(x.shape) != 1 or x.support.levels is None or x.support.levels < 2:
            check.error(
                "E815",
                f"argmax needs a flat categorical input [D] with levels >= 2, got {x} in "
                f"{x.support}",
                "in",
                hint="declare the categories on the input, e.g. {shape: [8], levels: 5}",
            )
            return None
        scores = PortInfo((x.numel * x.support.levels,), REAL)
        if not check_dequantizer(self.encoder, scores, check, "encoder"):
            return None
        return (scores,)

    def modelled_by(self) -> str:
        return f"thresholded v ~ {self.encoder.describe()} given one-hot x"

    def parameter_count(self, inputs: tuple[PortInfo, ...], context: PortInfo | None) -> int:
        x = inputs[0]
        assert x.support.levels is not None
        scores = PortInfo((x.numel * x.support.levels,), REAL)
        return self.encoder.density_parameter_count(scores, scores.numel)

    def build(self, inputs: tuple[PortInfo, ...], context: PortInfo | None) -> Argmax:
        from flowspec.layers.argmax import Argmax

        x = inputs[0]
        levels = x.support.levels
        assert levels is not None
        scores = PortInfo((x.numel * levels,), REAL)
        return Argmax(levels, self.encoder.build(scores, scores.numel))
