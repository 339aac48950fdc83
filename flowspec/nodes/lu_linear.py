"""Invertible linear map of the feature axis with an LU parameterisation.

Kingma and Dhariwal, "Glow: Generative Flow with Invertible 1x1 Convolutions", NeurIPS 2018,
arXiv:1807.03039, Sec. 3.2 (LU-decomposed weight).

``W = P L (U + diag(sign_s * exp(log_s)))`` with ``P`` a fixed permutation, ``L`` unit
lower-triangular and ``U`` strictly upper-triangular, so ``log|det W| = sum(log_s)`` costs
O(D) and the inverse is two triangular solves. The weight starts as a random orthogonal
matrix (``|det W| = 1``) drawn from ``seed``.

Shapes: for a flat input ``[D]`` this is the dense map ``z = W x + b``. For ``[C, H, W]``
(any event shape) it mixes event axis 0 at every position, i.e. Glow's invertible 1x1
convolution, and the contribution is ``H * W * sum(log_s)``.

Example::

    {kind: lu_linear, seed: 1}
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, ClassVar, Literal

from pydantic import Field

from flowspec.core.example import Example
from flowspec.core.node import MAX_SEED, NodeCheck, NodeSpec
from flowspec.core.ports import PortInfo
from flowspec.nodes._checks import learned_feature_map

if TYPE_CHECKING:
    from flowspec.layers.lu_linear import LULinear

__all__ = ["LULinearSpec"]


class LULinearSpec(NodeSpec):
    """Invertible linear map of the features (or 1x1 convolution over channels), LU form."""

    kind: Literal["lu_linear"] = "lu_linear"
    seed: int = Field(
        default=0,
        ge=0,
        le=MAX_SEED,
        description="Seed of the random orthogonal initial weight (and so of P), "
        "0 .. 2^63 - 1. In a block use, repetition r uses seed + r.",
    )
    bias: bool = Field(default=True, description="Add a learned bias b: z = W x + b.")
    summary = "invertible linear map / 1x1 conv, W = P L (U + diag(s)), LU-parameterised"
    reference = (
        "Kingma and Dhariwal 2018, Glow: Generative Flow with Invertible 1x1 Convolutions, "
        "arXiv:1807.03039"
    )
    contribution = "positions * sum(log|s|)"

    has_parameters = True
    examples: ClassVar[tuple[Example, ...]] = (
        Example({}, (PortInfo((3,)),), label="flat"),
        Example({"seed": 2, "bias": False}, (PortInfo((2, 2, 2)),), label="image"),
    )

    def infer(
        self, inputs: tuple[PortInfo, ...], context: PortInfo | None, check: NodeCheck
    ) -> tuple[PortInfo, ...] | None:
        return learned_feature_map(inputs[0], self.kind, check)

    def for_repetition(self, repetition: int) -> LULinearSpec:
        return self.model_copy(update={"seed": (self.seed + repetition) % (MAX_SEED + 1)})

    def parameter_count(self, inputs: tuple[PortInfo, ...], context: PortInfo | None) -> int:
        """The free entries of L (below its unit diagonal) and U (above its diagonal),
        ``D (D - 1)`` together, plus ``log|s|`` and the bias: ``D^2 + D`` with the bias."""
        features = inputs[0].shape[0]
        return features * (features - 1) + features * (2 if self.bias else 1)

    def build(self, inputs: tuple[PortInfo, ...], context: PortInfo | None) -> LULinear:
        from flowspec.layers.lu_linear import LULinear

        shape = inputs[0].shape
        return LULinear(shape[0], len(shape), math.prod(shape[1:]), self.seed, self.bias)
