"""The logistic sigmoid, ``z = 1 / (1 + exp(-x))``, from the real line to (0, 1).

The inverse of the logit preprocessing of Dinh et al. 2016, "Density estimation using Real
NVP", arXiv:1605.08803; ``log dz/dx = -softplus(-x) - softplus(x)``.

Example::

    {kind: elementwise, fn: sigmoid}
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Literal

from flowspec.core.example import Example
from flowspec.core.ports import PortInfo
from flowspec.transformers._monotone import MonotoneMapSpec

if TYPE_CHECKING:
    from flowspec.layers.transformers.sigmoid import SigmoidTransformer

__all__ = ["SigmoidSpec"]


class SigmoidSpec(MonotoneMapSpec):
    """``z = sigmoid(x)``: real -> (0, 1)."""

    kind: Literal["sigmoid"] = "sigmoid"
    summary = "z = 1 / (1 + exp(-x)), real -> (0, 1)"
    reference = "Dinh et al. 2016, arXiv:1605.08803"
    examples = (Example({}, (PortInfo((3,)),)),)

    def scalar_map(self, v: float) -> float:
        return 1.0 / (1.0 + math.exp(-v)) if v >= 0 else math.exp(v) / (1.0 + math.exp(v))

    def build(self) -> SigmoidTransformer:
        from flowspec.layers.transformers.sigmoid import SigmoidTransformer

        return SigmoidTransformer()
